"""automations: triggers on appointments, exactly-once sends, messaging settings, demo outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:19:43.385310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('automations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('require_arrived', sa.Boolean(), nullable=False),
    sa.Column('send_when_booked_late', sa.Boolean(), nullable=False),
    sa.Column('is_service', sa.Boolean(), nullable=False),
    sa.Column('send_email', sa.Boolean(), nullable=False),
    sa.Column('email_subject', sa.String(length=500), nullable=False),
    sa.Column('email_body', sa.Text(), nullable=False),
    sa.Column('send_sms', sa.Boolean(), nullable=False),
    sa.Column('sms_body', sa.Text(), nullable=False),
    sa.Column('activated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('planned_through', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished')", name=op.f('ck_automations_trigger')),
    sa.CheckConstraint('offset_minutes >= 0', name=op.f('ck_automations_offset_minutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automations'))
    )
    op.create_table('messaging_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_name', sa.String(length=255), nullable=True),
    sa.Column('sender_email', sa.String(length=255), nullable=True),
    sa.Column('reply_to_email', sa.String(length=255), nullable=True),
    sa.Column('sender_details', sa.Text(), nullable=True),
    sa.Column('email_quiet_start', sa.Integer(), nullable=True),
    sa.Column('email_quiet_end', sa.Integer(), nullable=True),
    sa.Column('sms_quiet_start', sa.Integer(), nullable=True),
    sa.Column('sms_quiet_end', sa.Integer(), nullable=True),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('email_quiet_end IS NULL OR (email_quiet_end >= 0 AND email_quiet_end < 1440)', name=op.f('ck_messaging_settings_email_quiet_end')),
    sa.CheckConstraint('email_quiet_start IS NULL OR (email_quiet_start >= 0 AND email_quiet_start < 1440)', name=op.f('ck_messaging_settings_email_quiet_start')),
    sa.CheckConstraint('sms_quiet_end IS NULL OR (sms_quiet_end >= 0 AND sms_quiet_end < 1440)', name=op.f('ck_messaging_settings_sms_quiet_end')),
    sa.CheckConstraint('sms_quiet_start IS NULL OR (sms_quiet_start >= 0 AND sms_quiet_start < 1440)', name=op.f('ck_messaging_settings_sms_quiet_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messaging_settings'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('to_address', sa.String(length=255), nullable=False),
    sa.Column('from_address', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    op.create_index(op.f('ix_outbox_messages_channel'), 'outbox_messages', ['channel'], unique=False)
    op.create_table('automation_appointment_types',
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('appointment_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_type_id'], ['appointment_types.id'], name=op.f('fk_automation_appointment_types_appointment_type_id_appointment_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_automation_appointment_types_automation_id_automations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('automation_id', 'appointment_type_id', name=op.f('pk_automation_appointment_types'))
    )
    op.create_table('automation_practitioners',
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_automation_practitioners_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_automation_practitioners_practitioner_id_practitioners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('automation_id', 'practitioner_id', name=op.f('pk_automation_practitioners'))
    )
    op.create_table('automation_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('automation_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('trigger_key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('event_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('queued_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('sent_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('to_address', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('provider_message_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_automation_sends_channel')),
    sa.CheckConstraint("state IN ('pending', 'queued', 'sending', 'sent', 'skipped', 'failed')", name=op.f('ck_automation_sends_state')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_automation_sends_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_automation_sends_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_automation_sends_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_sends')),
    sa.UniqueConstraint('automation_id', 'appointment_id', 'trigger_key', 'channel', name='uq_automation_sends_firing')
    )
    op.create_index('ix_automation_sends_automation_id_desc', 'automation_sends', ['automation_id', 'id'], unique=False)
    op.create_index(op.f('ix_automation_sends_contact_id'), 'automation_sends', ['contact_id'], unique=False)
    op.create_index('ix_automation_sends_state_due', 'automation_sends', ['state', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_automation_sends_state_due', table_name='automation_sends')
    op.drop_index(op.f('ix_automation_sends_contact_id'), table_name='automation_sends')
    op.drop_index('ix_automation_sends_automation_id_desc', table_name='automation_sends')
    op.drop_table('automation_sends')
    op.drop_table('automation_practitioners')
    op.drop_table('automation_appointment_types')
    op.drop_index(op.f('ix_outbox_messages_channel'), table_name='outbox_messages')
    op.drop_table('outbox_messages')
    op.drop_table('messaging_settings')
    op.drop_table('automations')
