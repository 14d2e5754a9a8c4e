"""bookings: website pages and the clinic_settings row (clinic name, Cliniko bookings address)

Revision ID: 0003
Revises: 0002_contact_search
Create Date: 2026-11-25 17:25:04.900404
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0003'
down_revision = '0002_contact_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinic_settings',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clinic_name', sa.String(length=200), nullable=True),
    sa.Column('bookings_url', sa.String(length=2000), nullable=True),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_clinic_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_settings'))
    )
    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', oncord.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('slug', name=op.f('uq_pages_slug'))
    )


def downgrade() -> None:
    op.drop_table('pages')
    op.drop_table('clinic_settings')
