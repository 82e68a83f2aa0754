"""conversation state and drafts, sealed, so restarts keep conversations

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_conversation_state")),
    )
    op.create_index(
        op.f("ix_conversation_state_expires_at"), "conversation_state", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_state_expires_at"), table_name="conversation_state")
    op.drop_table("conversation_state")
