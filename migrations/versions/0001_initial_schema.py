"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 17:02:32.269465
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('appointment_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cliniko_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('category', sa.String(length=255), nullable=True),
    sa.Column('color', sa.String(length=16), nullable=True),
    sa.Column('duration_in_minutes', sa.Integer(), nullable=True),
    sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_types')),
    sa.UniqueConstraint('cliniko_id', name=op.f('uq_appointment_types_cliniko_id'))
    )
    op.create_table('businesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cliniko_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('time_zone_identifier', sa.String(length=64), nullable=True),
    sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_businesses')),
    sa.UniqueConstraint('cliniko_id', name=op.f('uq_businesses_cliniko_id'))
    )
    op.create_table('cliniko_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_encrypted', sa.Text(), nullable=True),
    sa.Column('shard', sa.String(length=16), nullable=False),
    sa.Column('account_subdomain', sa.String(length=255), nullable=True),
    sa.Column('account_name', sa.String(length=255), nullable=True),
    sa.Column('user_name', sa.String(length=255), nullable=True),
    sa.Column('time_zone_identifier', sa.String(length=64), nullable=True),
    sa.Column('enabled_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disconnected_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('auto_sync', sa.Boolean(), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cliniko_connections'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=255), nullable=False),
    sa.Column('last_name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('address_1', sa.String(length=255), nullable=True),
    sa.Column('address_2', sa.String(length=255), nullable=True),
    sa.Column('address_3', sa.String(length=255), nullable=True),
    sa.Column('city', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=255), nullable=True),
    sa.Column('post_code', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=255), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=255), nullable=True),
    sa.Column('gender_identity', sa.String(length=255), nullable=True),
    sa.Column('email_marketing_status', sa.String(length=16), nullable=False),
    sa.Column('sms_marketing_status', sa.String(length=16), nullable=False),
    sa.Column('cliniko_patient_id', sa.String(length=32), nullable=True),
    sa.Column('cliniko_reminder_type', sa.String(length=32), nullable=True),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("email_marketing_status IN ('subscribed', 'pending', 'unsubscribed')", name=op.f('ck_contacts_email_status')),
    sa.CheckConstraint("sms_marketing_status IN ('subscribed', 'pending', 'unsubscribed')", name=op.f('ck_contacts_sms_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('cliniko_patient_id', name=op.f('uq_contacts_cliniko_patient_id'))
    )
    op.create_index(op.f('ix_contacts_archived_at'), 'contacts', ['archived_at'], unique=False)
    op.create_index('ix_contacts_email_lower', 'contacts', [sa.literal_column('lower(email)')], unique=False)
    op.create_index(op.f('ix_contacts_email_marketing_status'), 'contacts', ['email_marketing_status'], unique=False)
    op.create_index('ix_contacts_name', 'contacts', ['last_name', 'first_name'], unique=False)
    op.create_index(op.f('ix_contacts_phone'), 'contacts', ['phone'], unique=False)
    op.create_index(op.f('ix_contacts_post_code'), 'contacts', ['post_code'], unique=False)
    op.create_index(op.f('ix_contacts_sms_marketing_status'), 'contacts', ['sms_marketing_status'], unique=False)
    op.create_table('practitioners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cliniko_id', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('first_name', sa.String(length=255), nullable=True),
    sa.Column('last_name', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioners')),
    sa.UniqueConstraint('cliniko_id', name=op.f('uq_practitioners_cliniko_id'))
    )
    op.create_table('sync_cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=64), nullable=False),
    sa.Column('synced_through', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_full_sync_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_cursors')),
    sa.UniqueConstraint('resource', name=op.f('uq_sync_cursors_resource'))
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('queued_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('current_resource', sa.String(length=64), nullable=True),
    sa.Column('pages_done', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('requests_made', sa.Integer(), nullable=False),
    sa.Column('rate_limit_waits', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    op.create_index(op.f('ix_sync_runs_kind'), 'sync_runs', ['kind'], unique=False)
    op.create_index(op.f('ix_sync_runs_status'), 'sync_runs', ['status'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cliniko_id', sa.String(length=32), nullable=False),
    sa.Column('cliniko_patient_id', sa.String(length=32), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('appointment_type_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('business_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('patient_arrived', sa.Boolean(), nullable=True),
    sa.Column('did_not_arrive', sa.Boolean(), nullable=True),
    sa.Column('cancelled_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancellation_reason', sa.Integer(), nullable=True),
    sa.Column('cancellation_reason_description', sa.String(length=255), nullable=True),
    sa.Column('cancellation_note', sa.Text(), nullable=True),
    sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_created_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cliniko_updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_type_id'], ['appointment_types.id'], name=op.f('fk_appointments_appointment_type_id_appointment_types')),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_appointments_business_id_businesses')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_appointments_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_appointments_practitioner_id_practitioners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('cliniko_id', name=op.f('uq_appointments_cliniko_id'))
    )
    op.create_index(op.f('ix_appointments_business_id'), 'appointments', ['business_id'], unique=False)
    op.create_index(op.f('ix_appointments_cliniko_patient_id'), 'appointments', ['cliniko_patient_id'], unique=False)
    op.create_index(op.f('ix_appointments_cliniko_updated_at'), 'appointments', ['cliniko_updated_at'], unique=False)
    op.create_index('ix_appointments_contact_starts', 'appointments', ['contact_id', 'starts_at'], unique=False)
    op.create_index('ix_appointments_practitioner_starts', 'appointments', ['practitioner_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_appointments_starts_at'), 'appointments', ['starts_at'], unique=False)
    op.create_index('ix_appointments_type_starts', 'appointments', ['appointment_type_id', 'starts_at'], unique=False)
    op.create_table('consent_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=True),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_changes_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_changes'))
    )
    op.create_index(op.f('ix_consent_changes_contact_id'), 'consent_changes', ['contact_id'], unique=False)
    op.create_table('activity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_activity_events_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_activity_events_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_events')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_activity_events_dedupe_key'))
    )
    op.create_index(op.f('ix_activity_events_appointment_id'), 'activity_events', ['appointment_id'], unique=False)
    op.create_index('ix_activity_events_contact_time', 'activity_events', ['contact_id', 'occurred_at'], unique=False)
    


def downgrade() -> None:
    
    op.drop_index('ix_activity_events_contact_time', table_name='activity_events')
    op.drop_index(op.f('ix_activity_events_appointment_id'), table_name='activity_events')
    op.drop_table('activity_events')
    op.drop_index(op.f('ix_consent_changes_contact_id'), table_name='consent_changes')
    op.drop_table('consent_changes')
    op.drop_index('ix_appointments_type_starts', table_name='appointments')
    op.drop_index(op.f('ix_appointments_starts_at'), table_name='appointments')
    op.drop_index('ix_appointments_practitioner_starts', table_name='appointments')
    op.drop_index('ix_appointments_contact_starts', table_name='appointments')
    op.drop_index(op.f('ix_appointments_cliniko_updated_at'), table_name='appointments')
    op.drop_index(op.f('ix_appointments_cliniko_patient_id'), table_name='appointments')
    op.drop_index(op.f('ix_appointments_business_id'), table_name='appointments')
    op.drop_table('appointments')
    op.drop_table('users')
    op.drop_index(op.f('ix_sync_runs_status'), table_name='sync_runs')
    op.drop_index(op.f('ix_sync_runs_kind'), table_name='sync_runs')
    op.drop_table('sync_runs')
    op.drop_table('sync_cursors')
    op.drop_table('practitioners')
    op.drop_index(op.f('ix_contacts_sms_marketing_status'), table_name='contacts')
    op.drop_index(op.f('ix_contacts_post_code'), table_name='contacts')
    op.drop_index(op.f('ix_contacts_phone'), table_name='contacts')
    op.drop_index('ix_contacts_name', table_name='contacts')
    op.drop_index(op.f('ix_contacts_email_marketing_status'), table_name='contacts')
    op.drop_index('ix_contacts_email_lower', table_name='contacts')
    op.drop_index(op.f('ix_contacts_archived_at'), table_name='contacts')
    op.drop_table('contacts')
    op.drop_table('cliniko_connections')
    op.drop_table('businesses')
    op.drop_table('appointment_types')
    
