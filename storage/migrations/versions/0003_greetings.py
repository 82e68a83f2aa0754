"""greetings (occasions, templates, sent greetings)

Occasion settings and admin-defined dates, and admins' own greeting texts.
Sent greetings need no table of their own: each is an outbox row whose key
`greeting:<occasion>:<year>:<member_id>` makes it once per member per year.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "greeting_occasions",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("audience_tag", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("month", sa.SmallInteger(), nullable=True),
        sa.Column("day", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "month IS NULL OR (month BETWEEN 1 AND 12)", name=op.f("ck_greeting_occasions_month")
        ),
        sa.CheckConstraint(
            "day IS NULL OR (day BETWEEN 1 AND 31)", name=op.f("ck_greeting_occasions_day")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_greeting_occasions")),
    )
    op.create_table(
        "greeting_templates",
        sa.Column("occasion", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("occasion", "language", name=op.f("pk_greeting_templates")),
    )


def downgrade() -> None:
    op.drop_table("greeting_templates")
    op.drop_table("greeting_occasions")
