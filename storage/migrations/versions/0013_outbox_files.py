"""outbox files: the bytes an outbox row uploads, kept until the row is final

Revision ID: 0013_outbox_files
Revises: 0012_handbook
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_outbox_files"
down_revision: str | None = "0012_handbook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_files",
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_key"],
            ["outbox.key"],
            name=op.f("fk_outbox_files_outbox_key_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_key", name=op.f("pk_outbox_files")),
    )


def downgrade() -> None:
    op.drop_table("outbox_files")
