"""frequency cap: an admin setting (off by default) and each contact's marketing slots

Revision ID: 0006_frequency_cap
Revises: 0005
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db

revision = '0006_frequency_cap'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messaging_settings') as batch:
        batch.add_column(sa.Column('frequency_cap_messages', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('frequency_cap_days', sa.Integer(), nullable=True))
        batch.create_check_constraint(
            'frequency_cap',
            "(frequency_cap_messages IS NULL AND frequency_cap_days IS NULL) OR "
            "(frequency_cap_messages BETWEEN 1 AND 100 AND frequency_cap_days BETWEEN 1 AND 365)",
        )
    op.create_table('frequency_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('taken_at', oncord.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_frequency_slots_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frequency_slots')),
    sa.UniqueConstraint('contact_id', 'slot', name='uq_frequency_slots_contact_slot')
    )
    op.create_index(op.f('ix_frequency_slots_reference'), 'frequency_slots', ['reference'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_frequency_slots_reference'), table_name='frequency_slots')
    op.drop_table('frequency_slots')
    with op.batch_alter_table('messaging_settings') as batch:
        batch.drop_constraint('frequency_cap', type_='check')
        batch.drop_column('frequency_cap_days')
        batch.drop_column('frequency_cap_messages')
