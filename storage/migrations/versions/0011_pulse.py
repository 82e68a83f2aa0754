"""pulse: the monthly satisfaction pulse, its months and its anonymous answers

Revision ID: 0011_pulse
Revises: 0010_roster
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011_pulse"
down_revision: str | None = "0010_roster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "pulse_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sent_at", UTC(), nullable=False),
        sa.Column("closes_at", UTC(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_months")),
        sa.UniqueConstraint("month", name=op.f("uq_pulse_months_month")),
    )
    op.create_table(
        "pulse_answers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("month_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("comment_sealed", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_pulse_answers_stars")),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["pulse_months.id"],
            name=op.f("fk_pulse_answers_month_id_pulse_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
        sa.UniqueConstraint(
            "month_id", "voter_key", name="uq_pulse_answers_month_id_voter_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("pulse_answers")
    op.drop_table("pulse_months")
