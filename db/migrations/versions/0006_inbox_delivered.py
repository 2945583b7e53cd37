"""Delivery progress in the inbox: how many of an update's replies went out
(``inbox_updates.delivered``), recorded as each one is delivered, so a restart after a crash
sends only the replies that had not gone out yet.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_updates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivered", sa.SmallInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox_updates", schema=None) as batch_op:
        batch_op.drop_column("delivered")
