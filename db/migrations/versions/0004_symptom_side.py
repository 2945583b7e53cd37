"""Which leg has the symptoms (clinical.md §3): ``patients.symptom_side``, "left" or "right".

Everyone already there starts with NULL (not asked yet): the bot asks them once, and the
pictures show the right leg until they answer.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("symptom_side", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # A person mid-way through the question (flow "side") goes back to having no flow open.
    patients = sa.table("patients", sa.column("flow", sa.String), sa.column("flow_data", sa.JSON))
    op.execute(patients.update().where(patients.c.flow == "side").values(flow=None, flow_data={}))
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("symptom_side")
