"""activities, interest groups for members, trainings

Activities with sign-ups (seated / waitlisted, ordered by ticket), ratings,
reminder marks (one reminder per member, target, offset and schedule
version), and trainings with sessions, enrolments and attendance.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime
OFFERING_STATUS = "status IN ('draft', 'published', 'cancelled')"
SIGNUP_STATUS = "status IN ('pending', 'seated', 'waitlisted', 'rejected')"
SEATS_FIT = "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=255), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("starts_at", UTC(), nullable=False),
        sa.Column("ends_at", UTC(), nullable=False),
        sa.Column("signup_deadline", UTC(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("guests_allowed", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkin_code", sa.String(length=8), nullable=False),
        sa.Column("schedule_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("published_at", UTC(), nullable=True),
        sa.Column("cancelled_at", UTC(), nullable=True),
        sa.CheckConstraint(OFFERING_STATUS, name=op.f("ck_activities_status")),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name=op.f("ck_activities_capacity")),
        sa.CheckConstraint(SEATS_FIT, name=op.f("ck_activities_seats")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_activities_times")),
        _fk("activities", "created_by", "members", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index("ix_activities_status_starts_at", "activities", ["status", "starts_at"])

    op.create_table(
        "activity_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.SmallInteger(), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("seated_at", UTC(), nullable=True),
        sa.Column("checked_in_at", UTC(), nullable=True),
        sa.Column("checkin_attempts", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(SIGNUP_STATUS, name=op.f("ck_activity_signups_status")),
        sa.CheckConstraint("seats BETWEEN 1 AND 2", name=op.f("ck_activity_signups_seats")),
        _fk("activity_signups", "activity_id", "activities", "CASCADE"),
        _fk("activity_signups", "member_id", "members", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_signups")),
    )
    op.create_index(
        "uq_activity_signups_member",
        "activity_signups",
        ["activity_id", "member_id"],
        unique=True,
    )
    op.create_index(
        "ix_activity_signups_line", "activity_signups", ["activity_id", "status", "ticket"]
    )
    op.create_index(op.f("ix_activity_signups_member_id"), "activity_signups", ["member_id"])

    op.create_table(
        "activity_ratings",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_activity_ratings_stars")),
        _fk("activity_ratings", "activity_id", "activities", "CASCADE"),
        _fk("activity_ratings", "member_id", "members", "CASCADE"),
        sa.PrimaryKeyConstraint("activity_id", "member_id", name=op.f("pk_activity_ratings")),
    )

    op.create_table(
        "reminder_marks",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        _fk("reminder_marks", "member_id", "members", "CASCADE"),
        sa.PrimaryKeyConstraint(
            "kind",
            "target_id",
            "member_id",
            "offset_minutes",
            "version",
            name=op.f("pk_reminder_marks"),
        ),
    )

    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("signup_deadline", UTC(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("required_sessions", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("published_at", UTC(), nullable=True),
        sa.Column("cancelled_at", UTC(), nullable=True),
        sa.CheckConstraint(OFFERING_STATUS, name=op.f("ck_trainings_status")),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name=op.f("ck_trainings_capacity")),
        sa.CheckConstraint(SEATS_FIT, name=op.f("ck_trainings_seats")),
        _fk("trainings", "created_by", "members", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    op.create_index(
        "ix_trainings_status_signup_deadline", "trainings", ["status", "signup_deadline"]
    )

    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC(), nullable=False),
        sa.Column("ends_at", UTC(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("online_link", sa.String(length=300), nullable=True),
        sa.Column("schedule_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_training_sessions_times")),
        _fk("training_sessions", "training_id", "trainings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    op.create_index(
        "ix_training_sessions_training_id_starts_at",
        "training_sessions",
        ["training_id", "starts_at"],
    )
    op.create_index("ix_training_sessions_starts_at", "training_sessions", ["starts_at"])

    op.create_table(
        "training_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.SmallInteger(), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("seated_at", UTC(), nullable=True),
        sa.Column("decided_at", UTC(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", UTC(), nullable=True),
        sa.CheckConstraint(SIGNUP_STATUS, name=op.f("ck_training_enrolments_status")),
        sa.CheckConstraint("seats = 1", name=op.f("ck_training_enrolments_seats")),
        _fk("training_enrolments", "training_id", "trainings", "CASCADE"),
        _fk("training_enrolments", "member_id", "members", "CASCADE"),
        _fk("training_enrolments", "decided_by", "members", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_enrolments")),
    )
    op.create_index(
        "uq_training_enrolments_member",
        "training_enrolments",
        ["training_id", "member_id"],
        unique=True,
    )
    op.create_index(
        "ix_training_enrolments_line", "training_enrolments", ["training_id", "status", "ticket"]
    )
    op.create_index(op.f("ix_training_enrolments_member_id"), "training_enrolments", ["member_id"])

    op.create_table(
        "training_attendance",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", UTC(), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        _fk("training_attendance", "session_id", "training_sessions", "CASCADE"),
        _fk("training_attendance", "member_id", "members", "CASCADE"),
        _fk("training_attendance", "marked_by", "members", "SET NULL"),
        sa.PrimaryKeyConstraint("session_id", "member_id", name=op.f("pk_training_attendance")),
    )
    op.create_index(op.f("ix_training_attendance_member_id"), "training_attendance", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_training_attendance_member_id"), table_name="training_attendance")
    op.drop_table("training_attendance")
    op.drop_index(op.f("ix_training_enrolments_member_id"), table_name="training_enrolments")
    op.drop_index("ix_training_enrolments_line", table_name="training_enrolments")
    op.drop_index("uq_training_enrolments_member", table_name="training_enrolments")
    op.drop_table("training_enrolments")
    op.drop_index("ix_training_sessions_starts_at", table_name="training_sessions")
    op.drop_index("ix_training_sessions_training_id_starts_at", table_name="training_sessions")
    op.drop_table("training_sessions")
    op.drop_index("ix_trainings_status_signup_deadline", table_name="trainings")
    op.drop_table("trainings")
    op.drop_table("reminder_marks")
    op.drop_table("activity_ratings")
    op.drop_index(op.f("ix_activity_signups_member_id"), table_name="activity_signups")
    op.drop_index("ix_activity_signups_line", table_name="activity_signups")
    op.drop_index("uq_activity_signups_member", table_name="activity_signups")
    op.drop_table("activity_signups")
    op.drop_index("ix_activities_status_starts_at", table_name="activities")
    op.drop_table("activities")
