"""training ratings: an attendee's stars and comment for a course

Revision ID: 0015_training_ratings
Revises: 0014_handbook_searches
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0015_training_ratings"
down_revision: str | None = "0014_handbook_searches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "training_ratings",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_training_ratings_stars")),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
            name=op.f("fk_training_ratings_training_id_trainings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_training_ratings_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("training_id", "member_id", name=op.f("pk_training_ratings")),
    )


def downgrade() -> None:
    op.drop_table("training_ratings")
