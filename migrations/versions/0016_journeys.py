"""journeys: the first-appointment trigger; versioned steps, enrolments and step runs; a journey's sends name their enrolment and step

Existing automations get no version row: an automation without one is a one-message journey whose
single send step is its own message fields, planned exactly as before, so nothing changes for them.

Revision ID: 0016_journeys
Revises: 0015_triggers
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0016_journeys'
down_revision = '0009_consent_ledger'
branch_labels = None
depends_on = None


OLD_TRIGGERS = "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled')"
NEW_TRIGGERS = (
    "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled', 'first_appointment')"
)


def upgrade() -> None:
    # SQLite cannot alter a CHECK in place: batch mode copies the table with the new one.
    with op.batch_alter_table('automations') as batch:
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), NEW_TRIGGERS)
        # Existing reminders keep sending to everyone, as before.
        batch.add_column(sa.Column('skip_cliniko_reminded', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table('journey_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_journey_versions_automation_id_automations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_versions')),
    sa.UniqueConstraint('automation_id', 'number', name='uq_journey_versions_number')
    )
    op.create_table('journey_enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('next_run_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('entered_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exit_reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('active', 'finished', 'exited')", name=op.f('ck_journey_enrolments_state')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_journey_enrolments_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_journey_enrolments_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_journey_enrolments_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['journey_versions.id'], name=op.f('fk_journey_enrolments_version_id_journey_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_enrolments')),
    sa.UniqueConstraint('automation_id', 'appointment_id', name='uq_journey_enrolments_appointment')
    )
    op.create_index('ix_journey_enrolments_automation_id_state', 'journey_enrolments', ['automation_id', 'state'], unique=False)
    op.create_index(op.f('ix_journey_enrolments_contact_id'), 'journey_enrolments', ['contact_id'], unique=False)
    op.create_index('ix_journey_enrolments_state_next_run_at', 'journey_enrolments', ['state', 'next_run_at'], unique=False)
    op.create_table('journey_step_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('ran_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['journey_enrolments.id'], name=op.f('fk_journey_step_runs_enrolment_id_journey_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_step_runs')),
    sa.UniqueConstraint('enrolment_id', 'step_index', name='uq_journey_step_runs_step')
    )
    # SQLite's batch mode reflects the referenced contacts table, whose expression index it cannot
    # read; the copy does not need it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        _add_send_columns()


def _add_send_columns() -> None:
    with op.batch_alter_table('automation_sends') as batch:
        batch.add_column(sa.Column('enrolment_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('step_index', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_automation_sends_enrolment_id_journey_enrolments'), 'journey_enrolments',
                                 ['enrolment_id'], ['id'], ondelete='CASCADE')
        batch.create_index(op.f('ix_automation_sends_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        _drop_send_columns()
    op.drop_table('journey_step_runs')
    op.drop_index('ix_journey_enrolments_state_next_run_at', table_name='journey_enrolments')
    op.drop_index(op.f('ix_journey_enrolments_contact_id'), table_name='journey_enrolments')
    op.drop_index('ix_journey_enrolments_automation_id_state', table_name='journey_enrolments')
    op.drop_table('journey_enrolments')
    op.drop_table('journey_versions')
    op.execute("DELETE FROM automations WHERE trigger = 'first_appointment'")
    with op.batch_alter_table('automations') as batch:
        batch.drop_column('skip_cliniko_reminded')
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), OLD_TRIGGERS)


def _drop_send_columns() -> None:
    with op.batch_alter_table('automation_sends') as batch:
        batch.drop_index(op.f('ix_automation_sends_enrolment_id'))
        batch.drop_constraint(op.f('fk_automation_sends_enrolment_id_journey_enrolments'), type_='foreignkey')
        batch.drop_column('step_index')
        batch.drop_column('enrolment_id')
