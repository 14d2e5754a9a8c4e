"""sending safety: quiet hours switched off stored apart from never set; archived campaigns;
deleted automations (their send log kept)

Revision ID: 0011_sending_safety
Revises: 0007
Create Date: 2026-12-02 01:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db

revision = '0011_sending_safety'
down_revision = '0015_triggers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messaging_settings') as batch:
        # False for every existing clinic: empty quiet hours there mean "never set", so the
        # defaults apply; only an admin switching them off later sets these.
        batch.add_column(sa.Column('email_quiet_off', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('sms_quiet_off', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('archived_at', oncord.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('automations') as batch:
        batch.add_column(sa.Column('deleted_at', oncord.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('automations') as batch:
        batch.drop_column('deleted_at')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('archived_at')
    with op.batch_alter_table('messaging_settings') as batch:
        batch.drop_column('sms_quiet_off')
        batch.drop_column('email_quiet_off')
