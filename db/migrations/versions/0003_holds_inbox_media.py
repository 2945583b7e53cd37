"""Safety holds that hold, symptom duration, next-morning follow-up, weekly look back, the update
inbox, dispatcher lease owners and uploaded pictures.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RATINGS = ("pain", "numbness", "tingling", "extent")
# Onboarding flows that come after the screening in 0002's conversation.
_AFTER_SCREENING = ("soon_wait", "checkin", "reminder", "zone", "start_when")


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_tier", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("hold_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("symptom_duration", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("symptoms_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("weekly_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("weekly_weekday", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("next_weekly_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("follow_up_report_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("follow_up_asked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("notice", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_patients_next_weekly_at"), ["next_weekly_at"], unique=False
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("weekly_enabled", server_default=None)

    patients = sa.table(
        "patients",
        sa.column("status", sa.String),
        sa.column("flow", sa.String),
        sa.column("flow_data", sa.JSON),
        sa.column("consent_at", sa.DateTime(timezone=True)),
        sa.column("screened_at", sa.DateTime(timezone=True)),
        sa.column("hold_tier", sa.String),
        sa.column("hold_since", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    # Everyone past the screening keeps being past it.
    op.execute(
        patients.update()
        .where(sa.or_(patients.c.status != "onboarding", patients.c.flow.in_(_AFTER_SCREENING)))
        .values(screened_at=patients.c.consent_at)
    )
    # Existing holds become the strictest kind (the wait applies); their old one-tap release
    # button is gone, so its flow ends.
    op.execute(
        patients.update()
        .where(patients.c.status == "safety_hold")
        .values(hold_tier="emergency", hold_since=patients.c.updated_at)
    )
    op.execute(patients.update().where(patients.c.flow == "hold").values(flow=None))

    with op.batch_alter_table("symptom_reports", schema=None) as batch_op:
        for name in _RATINGS:
            batch_op.alter_column(name, existing_type=sa.SmallInteger(), nullable=True)
        batch_op.add_column(sa.Column("settled", sa.Boolean(), nullable=True))

    op.create_table(
        "inbox_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_key", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox_updates")),
    )
    op.create_index("ix_inbox_updates_person", "inbox_updates", ["person_key", "update_id"])
    op.create_index("ix_inbox_updates_state", "inbox_updates", ["state", "received_at"])
    op.create_table(
        "inbox_leases",
        sa.Column("person_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_inbox_leases")),
    )
    op.create_table(
        "media_files",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "key", name=op.f("pk_media_files")),
    )


def downgrade() -> None:
    op.drop_table("media_files")
    op.drop_table("inbox_leases")
    op.drop_index("ix_inbox_updates_state", table_name="inbox_updates")
    op.drop_index("ix_inbox_updates_person", table_name="inbox_updates")
    op.drop_table("inbox_updates")
    op.execute(sa.text("DELETE FROM symptom_reports WHERE pain IS NULL"))
    with op.batch_alter_table("symptom_reports", schema=None) as batch_op:
        batch_op.drop_column("settled")
        for name in _RATINGS:
            batch_op.alter_column(name, existing_type=sa.SmallInteger(), nullable=False)
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_next_weekly_at"))
        for name in (
            "claimed_by",
            "notice",
            "follow_up_asked_at",
            "follow_up_report_id",
            "next_weekly_at",
            "weekly_weekday",
            "weekly_enabled",
            "symptoms_since",
            "symptom_duration",
            "screened_at",
            "hold_since",
            "hold_tier",
        ):
            batch_op.drop_column(name)
