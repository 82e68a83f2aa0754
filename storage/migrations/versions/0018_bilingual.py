"""bilingual broadcasts: an optional English version of a broadcast's text

Revision ID: 0018_bilingual
Revises: 0017_small
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_bilingual"
down_revision: str | None = "0017_small"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("text_en", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("text_en")
