"""handbook searches counted by local calendar month

Searches, the ones that found something, and each query that found nothing,
per month (a month bucket, no finer time, no member). The all-time
`handbook_misses` stay as they were and go on counting: what was counted before
this revision has no month (none was kept), so it shows in /handbook_misses
"all time" and in no month's report.

Revision ID: 0014_handbook_searches
Revises: 0013_outbox_files
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_handbook_searches"
down_revision: str | None = "0013_outbox_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handbook_search_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_handbook_search_months")),
    )
    op.create_table(
        "handbook_month_misses",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("query", sa.String(length=128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "query", name=op.f("pk_handbook_month_misses")),
    )


def downgrade() -> None:
    op.drop_table("handbook_month_misses")
    op.drop_table("handbook_search_months")
