"""send_budget: Telegram's sending budget shared by every instance on one PostgreSQL

Until now each instance paced itself (`DELIVERY_RATE` split by hand, 12 + 12
for two). One row holds the next free send slot of the whole bot; a row per
recently written chat (a keyed hash, never the chat id) holds its per-chat or
per-group limit, so the limits hold across instances (`storage.budget`).
Created on SQLite too, where one instance paces in process and leaves it empty.

Revision ID: 0021_budget
Revises: 0020_stale
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_budget"
down_revision: str | None = "0020_stale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("recent", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_budget")),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
