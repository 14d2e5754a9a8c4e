"""sync_runs.checks and first_checked_at: consecutive idle polls are kept as one row

Revision ID: 0012_sync_freshness
Revises: 0007
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db


revision = '0012_sync_freshness'
down_revision = '0010_group_classes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('checks', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('first_checked_at', oncord.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('first_checked_at')
        batch.drop_column('checks')
