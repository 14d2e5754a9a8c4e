"""sends without appointment: a birthday greets a contact who has never had an appointment, so an
enrolment and its sends may have no appointment; such sends are once per (automation, trigger key,
channel), the trigger key naming the enrolment and step or the once-key

Revision ID: 0022_sends_without_appointment
Revises: 0020_state_triggers
Create Date: 2026-12-03 07:10:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = '0022_sends_without_appointment'
down_revision = '0020_state_triggers'
branch_labels = None
depends_on = None

NO_APPOINTMENT = sa.text("appointment_id IS NULL")


def upgrade() -> None:
    # SQLite's batch copies reflect tables that point at contacts, whose expression index it cannot
    # read; the copies do not need it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('journey_enrolments') as batch:
            batch.alter_column('appointment_id', existing_type=sa.Integer(), nullable=True)
        with op.batch_alter_table('automation_sends') as batch:
            batch.alter_column('appointment_id', existing_type=sa.Integer(), nullable=True)
    # The firing key's unique constraint treats NULLs as distinct, so the sends without an
    # appointment get their own key.
    op.create_index('uq_automation_sends_occasion', 'automation_sends',
                    ['automation_id', 'trigger_key', 'channel'], unique=True,
                    sqlite_where=NO_APPOINTMENT, postgresql_where=NO_APPOINTMENT)


def downgrade() -> None:
    # The older schema cannot hold them: greetings to contacts without an appointment are removed
    # (sends first: they point at their enrolments).
    op.drop_index('uq_automation_sends_occasion', table_name='automation_sends')
    op.execute("DELETE FROM automation_sends WHERE appointment_id IS NULL")
    op.execute("DELETE FROM journey_enrolments WHERE appointment_id IS NULL")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('automation_sends') as batch:
            batch.alter_column('appointment_id', existing_type=sa.Integer(), nullable=False)
        with op.batch_alter_table('journey_enrolments') as batch:
            batch.alter_column('appointment_id', existing_type=sa.Integer(), nullable=False)
