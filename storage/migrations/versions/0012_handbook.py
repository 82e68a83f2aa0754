"""handbook: topics, entries, related links, synonyms, searches that found nothing

The default handbook a new union starts with is written at start-up
(`storage.handbook.ensure_default`), not here.

Revision ID: 0012_handbook
Revises: 0011_pulse
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_handbook"
down_revision: str | None = "0011_pulse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table(
        "handbook_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=64), nullable=False),
        sa.Column("title_en", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["handbook_topics.id"],
            name=op.f("fk_handbook_topics_parent_id_handbook_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handbook_topics")),
    )
    op.create_index(
        op.f("ix_handbook_topics_parent_id"), "handbook_topics", ["parent_id"], unique=False
    )
    op.create_table(
        "handbook_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=64), nullable=False),
        sa.Column("title_en", sa.String(length=64), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("file_kind", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "file_kind IN ('photo', 'document')", name=op.f("ck_handbook_entries_file_kind")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["handbook_topics.id"],
            name=op.f("fk_handbook_entries_topic_id_handbook_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handbook_entries")),
    )
    op.create_index(
        op.f("ix_handbook_entries_topic_id"), "handbook_entries", ["topic_id"], unique=False
    )
    op.create_table(
        "handbook_links",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["handbook_entries.id"],
            name=op.f("fk_handbook_links_entry_id_handbook_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["handbook_entries.id"],
            name=op.f("fk_handbook_links_related_id_handbook_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "related_id", name=op.f("pk_handbook_links")),
    )
    op.create_table(
        "handbook_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handbook_synonyms")),
    )
    op.create_table(
        "handbook_misses",
        sa.Column("query", sa.String(length=128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("query", name=op.f("pk_handbook_misses")),
    )


def downgrade() -> None:
    op.drop_table("handbook_misses")
    op.drop_table("handbook_synonyms")
    op.drop_table("handbook_links")
    op.drop_index(op.f("ix_handbook_entries_topic_id"), table_name="handbook_entries")
    op.drop_table("handbook_entries")
    op.drop_index(op.f("ix_handbook_topics_parent_id"), table_name="handbook_topics")
    op.drop_table("handbook_topics")
