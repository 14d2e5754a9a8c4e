"""feedback: patients' 0-10 scores, one per message; the low-feedback trigger

Revision ID: 0018_feedback
Revises: 0019_attribution
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0018_feedback'
down_revision = '0019_attribution'
branch_labels = None
depends_on = None


OLD_TRIGGERS = (
    "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled', 'first_appointment')"
)
NEW_TRIGGERS = (
    "trigger IN ('upcoming', 'cancelled', 'did_not_arrive', 'finished', 'rescheduled', 'first_appointment', "
    "'feedback_low')"
)


def upgrade() -> None:
    op.create_table('feedback_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_ref', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('responded_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 10', name=op.f('ck_feedback_responses_score')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_feedback_responses_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_feedback_responses_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_responses')),
    sa.UniqueConstraint('message_ref', name=op.f('uq_feedback_responses_message_ref'))
    )
    op.create_index(op.f('ix_feedback_responses_appointment_id'), 'feedback_responses', ['appointment_id'], unique=False)
    op.create_index(op.f('ix_feedback_responses_contact_id'), 'feedback_responses', ['contact_id'], unique=False)
    op.create_index(op.f('ix_feedback_responses_responded_at'), 'feedback_responses', ['responded_at'], unique=False)
    op.create_index(op.f('ix_feedback_responses_updated_at'), 'feedback_responses', ['updated_at'], unique=False)
    # SQLite cannot alter a CHECK in place: batch mode copies the table with the new one.
    with op.batch_alter_table('automations') as batch:
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), NEW_TRIGGERS)


def downgrade() -> None:
    op.execute("DELETE FROM automations WHERE trigger = 'feedback_low'")
    with op.batch_alter_table('automations') as batch:
        batch.drop_constraint(op.f('ck_automations_trigger'), type_='check')
        batch.create_check_constraint(op.f('ck_automations_trigger'), OLD_TRIGGERS)
    op.drop_index(op.f('ix_feedback_responses_updated_at'), table_name='feedback_responses')
    op.drop_index(op.f('ix_feedback_responses_responded_at'), table_name='feedback_responses')
    op.drop_index(op.f('ix_feedback_responses_contact_id'), table_name='feedback_responses')
    op.drop_index(op.f('ix_feedback_responses_appointment_id'), table_name='feedback_responses')
    op.drop_table('feedback_responses')
