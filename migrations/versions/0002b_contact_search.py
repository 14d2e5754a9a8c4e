"""staff screens: contact search indexes (trigram on PostgreSQL, name prefixes) and covering
indexes for the "seen by" filter and the dashboard

Revision ID: 0002_contact_search
Revises: 0002_patient_changes
Create Date: 2026-11-25 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_contact_search'
down_revision = '0002_patient_changes'
branch_labels = None
depends_on = None

# Must match oncord.models.contacts.search_document() exactly, or PostgreSQL will not use it.
SEARCH_DOCUMENT = (
    "lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || "
    "coalesce(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), "
    "'(', ''), ')', ''), '+', ''), '.', ''), ''))"
)


def upgrade() -> None:
    op.create_index('ix_appointments_practitioner_contact', 'appointments',
                    ['practitioner_id', 'contact_id', 'cancelled_at'])
    op.create_index('ix_appointments_starts_outcome', 'appointments',
                    ['starts_at', 'cancelled_at', 'archived_at', 'did_not_arrive', 'patient_arrived'])
    op.create_index('ix_contacts_first_name_prefix', 'contacts', [sa.literal_column('lower(first_name)')],
                    postgresql_ops={'lower(first_name)': 'text_pattern_ops'})
    op.create_index('ix_contacts_last_name_prefix', 'contacts', [sa.literal_column('lower(last_name)')],
                    postgresql_ops={'lower(last_name)': 'text_pattern_ops'})
    if op.get_bind().dialect.name != 'postgresql':
        # SQLite scans; a clinic on SQLite is small enough for that.
        return
    # pg_trgm is a trusted extension: the database owner may create it.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.execute(f'CREATE INDEX ix_contacts_search_trgm ON contacts USING gin ({SEARCH_DOCUMENT} gin_trgm_ops)')


def downgrade() -> None:
    op.drop_index('ix_appointments_starts_outcome', table_name='appointments')
    op.drop_index('ix_appointments_practitioner_contact', table_name='appointments')
    op.drop_index('ix_contacts_last_name_prefix', table_name='contacts')
    op.drop_index('ix_contacts_first_name_prefix', table_name='contacts')
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP INDEX IF EXISTS ix_contacts_search_trgm')
