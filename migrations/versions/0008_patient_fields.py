"""patient fields: a phone's E.164 form and mobile flag beside it; country codes from legacy text

Revision ID: 0008_patient_fields
Revises: 0007
Create Date: 2026-12-02 01:10:00

The new columns are filled here for every existing contact (not left to the next pull, which
skips patients Cliniko has not changed), with the same functions the app uses.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import op

from oncord.contacts.countries import code_for_country, country_name
from oncord.contacts.phones import phone_columns, phone_region

revision = '0008_patient_fields'
down_revision = '0007'
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column('contacts', sa.Column('phone_e164', sa.String(length=16), nullable=True))
    op.add_column('contacts', sa.Column('phone_is_mobile', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.create_index(op.f('ix_contacts_phone_e164'), 'contacts', ['phone_e164'], unique=False)
    _backfill()


def _backfill() -> None:
    default_region = os.environ.get('SMS_DEFAULT_REGION', 'AU') or 'AU'
    contacts = sa.table('contacts', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                        sa.column('country', sa.String), sa.column('country_code', sa.String),
                        sa.column('phone_e164', sa.String), sa.column('phone_is_mobile', sa.Boolean))
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(contacts.c.id, contacts.c.phone, contacts.c.country, contacts.c.country_code)
            .where(contacts.c.id > last_id).order_by(contacts.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values: dict[str, object] = {}
            code = row.country_code or code_for_country(row.country)
            if code and not row.country_code:
                values.update(country_code=code, country=country_name(code) or row.country)
            if row.phone:
                values.update(phone_columns(row.phone, phone_region(code, default_region)))
            if values:
                bind.execute(sa.update(contacts).where(contacts.c.id == row.id).values(**values))
        last_id = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f('ix_contacts_phone_e164'), table_name='contacts')
    op.drop_column('contacts', 'phone_is_mobile')
    op.drop_column('contacts', 'phone_e164')
