"""Function (PSFS, clinical.md §3): the activities a person named and their ratings, and when
the question was answered or skipped at onboarding (``patients.function_asked_at``).

Everyone already there has no activities; /activities lets them name some.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("function_asked_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "function_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_function_activities_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_function_activities")),
    )
    with op.batch_alter_table("function_activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_function_activities_patient_id"), ["patient_id"], unique=False
        )
    op.create_table(
        "function_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["function_activities.id"],
            name=op.f("fk_function_ratings_activity_id_function_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_function_ratings")),
    )
    with op.batch_alter_table("function_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_function_ratings_activity_id"), ["activity_id"], unique=False
        )


def downgrade() -> None:
    # A person mid-way through the question (flow "function") goes back to having no flow open.
    patients = sa.table("patients", sa.column("flow", sa.String), sa.column("flow_data", sa.JSON))
    op.execute(
        patients.update().where(patients.c.flow == "function").values(flow=None, flow_data={})
    )
    with op.batch_alter_table("function_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_function_ratings_activity_id"))
    op.drop_table("function_ratings")
    with op.batch_alter_table("function_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_function_activities_patient_id"))
    op.drop_table("function_activities")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("function_asked_at")
