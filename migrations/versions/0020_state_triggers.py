"""state triggers: "appointment booked" (online bookings only, by the flag 0019 added), recall and birthday; journeys enter
once per once-key; turning on a state trigger records whether it started the people matching then

Revision ID: 0020_state_triggers
Revises: 0021_review_link
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op


revision = '0020_state_triggers'
down_revision = '0021_review_link'
branch_labels = None
depends_on = None

OLD_TRIGGERS = (
    "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled', 'first_appointment', "
    "'feedback_low')"
)
NEW_TRIGGERS = (
    "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled', 'first_appointment', "
    "'feedback_low', 'booked', 'recall', 'birthday')"
)


def upgrade() -> None:
    # SQLite's batch copies reflect tables that point at contacts, whose expression index it cannot
    # read; the copies do not need it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('automations') as batch:
            batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
            batch.create_check_constraint(op.f('ck_automations_trigger'), NEW_TRIGGERS)
            batch.add_column(sa.Column('online_only', sa.Boolean(), nullable=False, server_default=sa.false()))
            batch.add_column(sa.Column('recall_months', sa.Integer(), nullable=False, server_default='6'))
            batch.add_column(sa.Column('backfill', sa.String(length=8), nullable=True))
            batch.add_column(sa.Column('backfill_count', sa.Integer(), nullable=True))
            batch.create_check_constraint(op.f('ck_automations_recall_months'), "recall_months BETWEEN 1 AND 60")
            batch.create_check_constraint(op.f('ck_automations_backfill'),
                                          "backfill IS NULL OR backfill IN ('all', 'new')")
        # Existing enrolments were once per appointment: that is their key.
        with op.batch_alter_table('journey_enrolments') as batch:
            batch.add_column(sa.Column('once_key', sa.String(length=64), nullable=True))
        op.execute("UPDATE journey_enrolments SET once_key = 'appointment:' || CAST(appointment_id AS VARCHAR(20))")
        with op.batch_alter_table('journey_enrolments') as batch:
            batch.alter_column('once_key', existing_type=sa.String(length=64), nullable=False)
            batch.drop_constraint('uq_journey_enrolments_appointment', type_='unique')
            batch.create_unique_constraint('uq_journey_enrolments_once_key', ['automation_id', 'once_key'])


def downgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        op.execute("DELETE FROM automations WHERE trigger IN ('booked', 'recall', 'birthday')")
        with op.batch_alter_table('journey_enrolments') as batch:
            batch.drop_constraint('uq_journey_enrolments_once_key', type_='unique')
            batch.create_unique_constraint('uq_journey_enrolments_appointment', ['automation_id', 'appointment_id'])
            batch.drop_column('once_key')
        with op.batch_alter_table('automations') as batch:
            batch.drop_constraint(op.f('ck_automations_backfill'), type_='check')
            batch.drop_constraint(op.f('ck_automations_recall_months'), type_='check')
            batch.drop_column('backfill_count')
            batch.drop_column('backfill')
            batch.drop_column('recall_months')
            batch.drop_column('online_only')
            batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
            batch.create_check_constraint(op.f('ck_automations_trigger'), OLD_TRIGGERS)
