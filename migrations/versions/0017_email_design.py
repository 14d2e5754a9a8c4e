"""email_design: the clinic's brand colour for designed e-mails

Revision ID: 0017_email_design
Revises: 0018_feedback
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017_email_design'
down_revision = '0018_feedback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.add_column(sa.Column('brand_colour', sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.drop_column('brand_colour')
