"""attribution: clicks on messages' Book Now links, bookings credited to a message, online-booked flag

Existing appointments are read as not booked online until Cliniko next sends them; none of them is
new to a pull any more, so none is ever attributed.

Revision ID: 0019_attribution
Revises: 0016_journeys
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0019_attribution'
down_revision = '0016_journeys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('appointments') as batch:
            batch.add_column(sa.Column('booked_online', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('booking_clicks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_recipient_id', sa.Integer(), nullable=True),
    sa.Column('automation_send_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('automation_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('first_clicked_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_clicked_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.CheckConstraint('(campaign_recipient_id IS NULL) <> (automation_send_id IS NULL)', name=op.f('ck_booking_clicks_one_message')),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_booking_clicks_channel')),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_booking_clicks_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_send_id'], ['automation_sends.id'], name=op.f('fk_booking_clicks_automation_send_id_automation_sends'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_booking_clicks_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_recipient_id'], ['campaign_recipients.id'], name=op.f('fk_booking_clicks_campaign_recipient_id_campaign_recipients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_booking_clicks_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_clicks')),
    sa.UniqueConstraint('automation_send_id', name=op.f('uq_booking_clicks_automation_send_id')),
    sa.UniqueConstraint('campaign_recipient_id', name=op.f('uq_booking_clicks_campaign_recipient_id'))
    )
    op.create_index('ix_booking_clicks_contact_clicked', 'booking_clicks', ['contact_id', 'first_clicked_at'], unique=False)
    op.create_table('booking_attributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('automation_id', sa.Integer(), nullable=True),
    sa.Column('campaign_recipient_id', sa.Integer(), nullable=True),
    sa.Column('automation_send_id', sa.Integer(), nullable=True),
    sa.Column('click_id', sa.Integer(), nullable=True),
    sa.Column('message_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('booked_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('clicked', 'after_message')", name=op.f('ck_booking_attributions_kind')),
    sa.CheckConstraint('(campaign_id IS NULL) <> (automation_id IS NULL)', name=op.f('ck_booking_attributions_one_source')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_booking_attributions_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], name=op.f('fk_booking_attributions_automation_id_automations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['automation_send_id'], ['automation_sends.id'], name=op.f('fk_booking_attributions_automation_send_id_automation_sends'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_booking_attributions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_recipient_id'], ['campaign_recipients.id'], name=op.f('fk_booking_attributions_campaign_recipient_id_campaign_recipients'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['click_id'], ['booking_clicks.id'], name=op.f('fk_booking_attributions_click_id_booking_clicks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_booking_attributions_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_attributions')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_booking_attributions_appointment_id'))
    )
    op.create_index('ix_booking_attributions_automation', 'booking_attributions', ['automation_id', 'kind'], unique=False)
    op.create_index('ix_booking_attributions_booked', 'booking_attributions', ['booked_at'], unique=False)
    op.create_index('ix_booking_attributions_campaign', 'booking_attributions', ['campaign_id', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_booking_attributions_campaign', table_name='booking_attributions')
    op.drop_index('ix_booking_attributions_booked', table_name='booking_attributions')
    op.drop_index('ix_booking_attributions_automation', table_name='booking_attributions')
    op.drop_table('booking_attributions')
    op.drop_index('ix_booking_clicks_contact_clicked', table_name='booking_clicks')
    op.drop_table('booking_clicks')
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('appointments') as batch:
            batch.drop_column('booked_online')
