"""review_link: the clinic's Google review link (Settings → Online bookings), for {{ review_url }}

Revision ID: 0021_review_link
Revises: 0017_email_design
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021_review_link'
down_revision = '0017_email_design'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.add_column(sa.Column('review_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clinic_settings') as batch:
        batch.drop_column('review_url')
