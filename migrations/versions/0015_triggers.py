"""triggers: the "appointment rescheduled" trigger; appointments keep the start a reschedule replaced

Revision ID: 0015_triggers
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0015_triggers'
down_revision = '0008_patient_fields'
branch_labels = None
depends_on = None

OLD_TRIGGERS = "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished')"
NEW_TRIGGERS = "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled')"


def upgrade() -> None:
    with op.batch_alter_table('appointments') as batch:
        batch.add_column(sa.Column('previous_starts_at', oncord.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('rescheduled_at', oncord.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_appointments_rescheduled_at', 'appointments', ['rescheduled_at'], unique=False,
                    postgresql_where=sa.text('rescheduled_at IS NOT NULL'),
                    sqlite_where=sa.text('rescheduled_at IS NOT NULL'))
    # SQLite cannot alter a CHECK in place: batch mode copies the table with the new one.
    with op.batch_alter_table('automations') as batch:
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), NEW_TRIGGERS)


def downgrade() -> None:
    op.execute("DELETE FROM automations WHERE trigger = 'rescheduled'")
    with op.batch_alter_table('automations') as batch:
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), OLD_TRIGGERS)
    op.drop_index('ix_appointments_rescheduled_at', table_name='appointments')
    # SQLite's batch copy reflects contacts (a foreign key) and cannot read its expression index;
    # the copy of appointments does not need it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                sa.exc.SAWarning)
        with op.batch_alter_table('appointments') as batch:
            batch.drop_column('rescheduled_at')
            batch.drop_column('previous_starts_at')
