"""clinic_profile: the clinic's address, phone and privacy link, and its logo in a table of its own

Revision ID: 0013_clinic_profile
Revises: 0007
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0013_clinic_profile'
down_revision = '0011_sending_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('privacy_url', sa.String(length=500), nullable=True))
    op.create_table('clinic_logos',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_clinic_logos_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_logos'))
    )


def downgrade() -> None:
    op.drop_table('clinic_logos')
    with op.batch_alter_table('clinic_settings') as batch:
        batch.drop_column('privacy_url')
        batch.drop_column('phone')
        batch.drop_column('address')
