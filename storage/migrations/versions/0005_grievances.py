"""anonymous grievances: categories, options, cases, their threads, group posts, audit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime
STATUSES = ("new", "taken", "answered", "resolved", "closed")


def upgrade() -> None:
    op.create_table(
        "grievance_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("always_urgent", sa.Boolean(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("take_hours", sa.Integer(), nullable=False),
        sa.Column("answer_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievance_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_grievance_categories_slug")),
    )
    op.create_table(
        "grievance_options",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_grievance_options")),
    )
    op.create_table(
        "grievances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("route_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("take_due_at", UTC(), nullable=False),
        sa.Column("answer_due_at", UTC(), nullable=False),
        sa.Column("taken_at", UTC(), nullable=True),
        sa.Column("taken_by", sa.BigInteger(), nullable=True),
        sa.Column("answered_at", UTC(), nullable=True),
        sa.Column("escalated_at", UTC(), nullable=True),
        sa.Column("escalation", sa.String(length=16), nullable=True),
        sa.Column("take_breached_at", UTC(), nullable=True),
        sa.Column("answer_breached_at", UTC(), nullable=True),
        sa.Column("finished_at", UTC(), nullable=True),
        sa.Column("muted_until", UTC(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", UTC(), nullable=True),
        sa.Column("link_destroyed_at", UTC(), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name=op.f("ck_grievances_status"),
        ),
        sa.CheckConstraint("urgency IN ('normal', 'urgent')", name=op.f("ck_grievances_urgency")),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_grievances_rating")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["grievance_categories.id"],
            name=op.f("fk_grievances_category_id_grievance_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievances")),
        sa.UniqueConstraint("code", name=op.f("uq_grievances_code")),
    )
    op.create_index(op.f("ix_grievances_category_id"), "grievances", ["category_id"])
    op.create_index("ix_grievances_status_created_at", "grievances", ["status", "created_at"])
    op.create_table(
        "grievance_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grievance_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("edited_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grievance_id"],
            ["grievances.id"],
            name=op.f("fk_grievance_messages_grievance_id_grievances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievance_messages")),
        sa.UniqueConstraint(
            "grievance_id", "seq", name=op.f("uq_grievance_messages_grievance_id")
        ),
    )
    op.create_index(
        op.f("ix_grievance_messages_grievance_id"), "grievance_messages", ["grievance_id"]
    )
    op.create_index(op.f("ix_grievance_messages_source_ref"), "grievance_messages", ["source_ref"])
    op.create_table(
        "grievance_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grievance_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grievance_id"],
            ["grievances.id"],
            name=op.f("fk_grievance_posts_grievance_id_grievances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["grievance_messages.id"],
            name=op.f("fk_grievance_posts_message_id_grievance_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievance_posts")),
        sa.UniqueConstraint("outbox_key", name=op.f("uq_grievance_posts_outbox_key")),
    )
    op.create_index(op.f("ix_grievance_posts_grievance_id"), "grievance_posts", ["grievance_id"])
    op.create_index(op.f("ix_grievance_posts_message_id"), "grievance_posts", ["message_id"])
    op.create_index(op.f("ix_grievance_posts_state"), "grievance_posts", ["state"])
    op.create_table(
        "grievance_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grievance_id", sa.Integer(), nullable=False),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grievance_id"],
            ["grievances.id"],
            name=op.f("fk_grievance_audit_grievance_id_grievances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grievance_audit")),
    )
    op.create_index(op.f("ix_grievance_audit_grievance_id"), "grievance_audit", ["grievance_id"])
    op.create_index(op.f("ix_grievance_audit_at"), "grievance_audit", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_grievance_audit_at"), table_name="grievance_audit")
    op.drop_index(op.f("ix_grievance_audit_grievance_id"), table_name="grievance_audit")
    op.drop_table("grievance_audit")
    op.drop_index(op.f("ix_grievance_posts_state"), table_name="grievance_posts")
    op.drop_index(op.f("ix_grievance_posts_message_id"), table_name="grievance_posts")
    op.drop_index(op.f("ix_grievance_posts_grievance_id"), table_name="grievance_posts")
    op.drop_table("grievance_posts")
    op.drop_index(op.f("ix_grievance_messages_source_ref"), table_name="grievance_messages")
    op.drop_index(op.f("ix_grievance_messages_grievance_id"), table_name="grievance_messages")
    op.drop_table("grievance_messages")
    op.drop_index("ix_grievances_status_created_at", table_name="grievances")
    op.drop_index(op.f("ix_grievances_category_id"), table_name="grievances")
    op.drop_table("grievances")
    op.drop_table("grievance_options")
    op.drop_table("grievance_categories")
