"""poll cards and extensions: the managers' cards of a poll, and when it was last extended

Closing or extending a poll redraws every manage card (``poll_cards``) and every
member's copy; ``polls.extended_at`` lets the job find copies delivered after
an extension with the old closing time.

Revision ID: 0020_stale
Revises: 0019_small15
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0020_stale"
down_revision: str | None = "0019_small15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("polls", sa.Column("extended_at", UTCDateTime(), nullable=True))
    op.create_table(
        "poll_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_cards_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_cards")),
        sa.UniqueConstraint(
            "poll_id", "chat_id", "message_id", name="uq_poll_cards_poll_id_chat_id_message_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("poll_cards")
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("extended_at")
