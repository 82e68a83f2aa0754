"""quick polls and suggestions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime
SUGGESTION_STATUSES = ("new", "considering", "adopted", "declined")


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("max_choices", sa.SmallInteger(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("results_visible", sa.Boolean(), nullable=False),
        sa.Column("share_results", sa.Boolean(), nullable=False),
        sa.Column("remind", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("closes_at", UTC(), nullable=True),
        sa.Column("remind_at", UTC(), nullable=True),
        sa.Column("reminded_at", UTC(), nullable=True),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.Column("chart_file_id", sa.String(length=255), nullable=True),
        sa.Column("chart_claimed_at", UTC(), nullable=True),
        sa.Column("chart_done_at", UTC(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_polls_status")),
        sa.CheckConstraint("max_choices BETWEEN 1 AND 10", name=op.f("ck_polls_max_choices")),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["members.id"],
            name=op.f("fk_polls_creator_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index("ix_polls_status_closes_at", "polls", ["status", "closes_at"])
    op.create_index(op.f("ix_polls_creator_id"), "polls", ["creator_id"])
    op.create_table(
        "poll_options",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_options_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "position", name=op.f("pk_poll_options")),
    )
    op.create_table(
        "poll_ballots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("department_sealed", sa.Text(), nullable=True),
        sa.Column("choices", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "choices >= 0 AND choices < 1024", name=op.f("ck_poll_ballots_choices")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_poll_ballots_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_ballots_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballots")),
        sa.UniqueConstraint("poll_id", "voter_key", name="uq_poll_ballots_poll_id_voter_key"),
    )
    op.create_index(op.f("ix_poll_ballots_member_id"), "poll_ballots", ["member_id"])
    op.create_table(
        "feature_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feature_settings")),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in SUGGESTION_STATUSES) + ")",
            name=op.f("ck_suggestions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["members.id"],
            name=op.f("fk_suggestions_decided_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_suggestions_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
    )
    op.create_index(op.f("ix_suggestions_member_id"), "suggestions", ["member_id"])
    op.create_table(
        "suggestion_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("cadre_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cadre_id"],
            ["members.id"],
            name=op.f("fk_suggestion_replies_cadre_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_suggestion_replies_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_replies")),
    )
    op.create_index(
        op.f("ix_suggestion_replies_suggestion_id"), "suggestion_replies", ["suggestion_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_suggestion_replies_suggestion_id"), table_name="suggestion_replies")
    op.drop_table("suggestion_replies")
    op.drop_index(op.f("ix_suggestions_member_id"), table_name="suggestions")
    op.drop_table("suggestions")
    op.drop_table("feature_settings")
    op.drop_index(op.f("ix_poll_ballots_member_id"), table_name="poll_ballots")
    op.drop_table("poll_ballots")
    op.drop_table("poll_options")
    op.drop_index(op.f("ix_polls_creator_id"), table_name="polls")
    op.drop_index("ix_polls_status_closes_at", table_name="polls")
    op.drop_table("polls")
