"""members.sort_key: each name's pinyin place, so member lists page in pinyin order in SQL

The admin's member list and search used to order by code point (or sort only
the first 200 matches in Python). The key is `core.collation.sort_key(name)`,
bytes compared as bytes on SQLite and PostgreSQL alike, indexed with the id.
Existing rows are filled here, in batches, by the same function the models use.

Revision ID: 0019_small15
Revises: 0018_bilingual
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core import collation

revision: str = "0019_small15"
down_revision: str | None = "0018_bilingual"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    # NOT NULL from the start, with an empty default the rows are filled over at once:
    # making it NOT NULL afterwards would recreate the table on SQLite, and dropping
    # `members` there with foreign keys on deletes every child row (ON DELETE CASCADE).
    op.add_column(
        "members",
        sa.Column("sort_key", sa.LargeBinary(), nullable=False, server_default=sa.text("''")),
    )
    bind = op.get_bind()
    members = sa.table(
        "members", sa.column("id", sa.Integer()), sa.column("name"), sa.column("sort_key")
    )
    fill = (
        members.update()
        .where(members.c.id == sa.bindparam("_id"))
        .values(sort_key=sa.bindparam("_key"))
    )
    last = 0
    while True:  # by id, so 100,000 members never sit in memory at once
        rows = bind.execute(
            sa.select(members.c.id, members.c.name)
            .where(members.c.id > last)
            .order_by(members.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(fill, [{"_id": i, "_key": collation.sort_key(name)} for i, name in rows])
        last = rows[-1][0]
    if bind.dialect.name == "postgresql":  # SQLite cannot drop a default in place
        op.alter_column("members", "sort_key", server_default=None)
    op.create_index("ix_members_sort_key", "members", ["sort_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_members_sort_key", table_name="members")
    op.drop_column("members", "sort_key")  # SQLite 3.35+ drops a column in place
