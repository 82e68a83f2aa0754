"""members.username: the Telegram @username, for the admin's member search

Filled as members next write in their private chat (and at registration); the
admin's search finds by it. Deleted with the member row on /forget.

Revision ID: 0017_small
Revises: 0016_fresh
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_small"
down_revision: str | None = "0016_fresh"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("members", sa.Column("username", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("username")
