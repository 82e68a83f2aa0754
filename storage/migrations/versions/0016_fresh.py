"""poll copies: the poll messages members opened again, to redraw them after a vote or close

Revision ID: 0016_fresh
Revises: 0015_training_ratings
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_fresh"
down_revision: str | None = "0015_training_ratings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_copies_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_copies")),
        sa.UniqueConstraint(
            "poll_id", "holder", "message_id", name="uq_poll_copies_poll_id_holder_message_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("poll_copies")
