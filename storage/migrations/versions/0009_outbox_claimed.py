"""outbox: a ``claimed`` state, so a crash loses only requests really in flight

A claimed row (leased by a worker, no request started) is now apart from a
``sending`` one (its request started): after a crash the first kind goes back
to ``pending``, and only the second may be uncertain. Rows left ``sending`` by
the previous code stay ``sending``: they are settled as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("pending", "sending", "paused", "sent", "blocked", "invalid", "failed", "cancelled")
NEW = ("pending", "claimed", *OLD[1:])
SENDING_ONLY = sa.text("status = 'sending'")
IN_HAND_ONLY = sa.text("status IN ('claimed', 'sending')")


def _statuses(names: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in names) + ")"


def _replace_check(names: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table over.
    with op.batch_alter_table("outbox", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_status"), _statuses(names))


def upgrade() -> None:
    op.drop_index("ix_outbox_sending", table_name="outbox")
    _replace_check(NEW)
    op.create_index(
        "ix_outbox_in_hand",
        "outbox",
        ["claimed_by", "claimed_at"],
        postgresql_where=IN_HAND_ONLY,
        sqlite_where=IN_HAND_ONLY,
    )


def downgrade() -> None:
    # A claimed row never had a request made: it may safely wait again.
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'claimed'")
    op.drop_index("ix_outbox_in_hand", table_name="outbox")
    _replace_check(OLD)
    op.create_index(
        "ix_outbox_sending",
        "outbox",
        ["claimed_by", "claimed_at"],
        postgresql_where=SENDING_ONLY,
        sqlite_where=SENDING_ONLY,
    )
