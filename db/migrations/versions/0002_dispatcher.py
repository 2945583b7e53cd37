"""Dispatcher bookkeeping: the claim lease on patients and who created a daily session.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("daily_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_by", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daily_sessions", schema=None) as batch_op:
        batch_op.drop_column("sent_by")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
