"""roster: imported entries with one-time codes, and wrong-code attempts

Revision ID: 0010_roster
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0010_roster"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("tags", sa.String(length=400), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entries")),
        sa.UniqueConstraint("employee_no", name=op.f("uq_roster_entries_employee_no")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_roster_entries_code_hash")),
    )
    op.create_table(
        "roster_code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_code_attempts")),
    )
    op.create_index(
        op.f("ix_roster_code_attempts_who"), "roster_code_attempts", ["who"], unique=False
    )
    op.create_index(
        op.f("ix_roster_code_attempts_at"), "roster_code_attempts", ["at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_roster_code_attempts_at"), table_name="roster_code_attempts")
    op.drop_index(op.f("ix_roster_code_attempts_who"), table_name="roster_code_attempts")
    op.drop_table("roster_code_attempts")
    op.drop_table("roster_entries")
