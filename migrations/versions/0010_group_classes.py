"""group classes: Cliniko's group appointments, and each attendee's place as an appointments row

Revision ID: 0010_group_classes
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

import oncord.db

revision = '0010_group_classes'
down_revision = '0013_clinic_profile'
branch_labels = None
depends_on = None


@contextmanager
def _appointments_batch() -> Iterator[BatchOperations]:
    # On SQLite the batch copies the table, reflecting it and the contacts table it refers to,
    # whose expression index (lower(last_name)) SQLite reflection skips with a warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('appointments') as batch:
            yield batch


def upgrade() -> None:
    op.create_table('group_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cliniko_id', sa.String(length=32), nullable=False),
    sa.Column('appointment_type_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('business_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('max_attendees', sa.Integer(), nullable=True),
    sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_created_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_type_id'], ['appointment_types.id'],
                            name=op.f('fk_group_appointments_appointment_type_id_appointment_types')),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'],
                            name=op.f('fk_group_appointments_business_id_businesses')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'],
                            name=op.f('fk_group_appointments_practitioner_id_practitioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_appointments')),
    sa.UniqueConstraint('cliniko_id', name=op.f('uq_group_appointments_cliniko_id'))
    )
    with _appointments_batch() as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='individual', nullable=False))
        batch.add_column(sa.Column('group_appointment_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_appointments_group_appointment_id_group_appointments'),
                                 'group_appointments', ['group_appointment_id'], ['id'], ondelete='CASCADE')
        batch.create_index(op.f('ix_appointments_group_appointment_id'), ['group_appointment_id'], unique=False)
        # Cliniko numbers individual appointments and attendees separately.
        batch.drop_constraint('uq_appointments_cliniko_id', type_='unique')
        batch.create_unique_constraint('uq_appointments_kind_cliniko_id', ['kind', 'cliniko_id'])


def downgrade() -> None:
    op.execute("DELETE FROM appointments WHERE kind <> 'individual'")
    with _appointments_batch() as batch:
        batch.drop_constraint('uq_appointments_kind_cliniko_id', type_='unique')
        batch.create_unique_constraint('uq_appointments_cliniko_id', ['cliniko_id'])
        batch.drop_index(op.f('ix_appointments_group_appointment_id'))
        batch.drop_constraint(op.f('fk_appointments_group_appointment_id_group_appointments'),
                              type_='foreignkey')
        batch.drop_column('group_appointment_id')
        batch.drop_column('kind')
    op.drop_table('group_appointments')
