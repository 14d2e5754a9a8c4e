"""consent ledger: who changed consent and on what evidence; rows are append-only and outlive contacts

Revision ID: 0009_consent_ledger
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009_consent_ledger'
down_revision = '0012_sync_freshness'
branch_labels = None
depends_on = None

# The Spam Act asks the clinic to show consent for every message: the database itself refuses to
# change or remove a ledger row, whatever code (or person at a SQL prompt) tries.
_PG_FUNCTION = """
CREATE FUNCTION consent_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_changes is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER consent_changes_append_only BEFORE UPDATE OR DELETE ON consent_changes
FOR EACH STATEMENT EXECUTE FUNCTION consent_changes_append_only()
"""
_SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER consent_changes_no_{op_name.lower()} BEFORE {op_name} ON consent_changes
BEGIN SELECT RAISE(ABORT, 'consent_changes is append-only: {op_name} refused'); END
"""
    for op_name in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    # Ledger rows outlive their contact, so the foreign key (which cascaded deletes) goes.
    # resolve_fks=False: SQLite's batch copy need not reflect contacts (its expression indexes warn).
    with op.batch_alter_table('consent_changes', schema=None, reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.drop_constraint('fk_consent_changes_contact_id_contacts', type_='foreignkey')
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.Text(), nullable=True))
    if op.get_context().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER consent_changes_append_only ON consent_changes')
        op.execute('DROP FUNCTION consent_changes_append_only()')
    else:
        op.execute('DROP TRIGGER consent_changes_no_update')
        op.execute('DROP TRIGGER consent_changes_no_delete')
    # Rows of contacts deleted meanwhile cannot satisfy the foreign key again.
    op.execute('DELETE FROM consent_changes WHERE contact_id NOT IN (SELECT id FROM contacts)')
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_column('evidence')
        batch_op.drop_column('actor')
        batch_op.drop_column('actor_user_id')
        batch_op.create_foreign_key('fk_consent_changes_contact_id_contacts', 'contacts', ['contact_id'], ['id'],
                                    ondelete='CASCADE')
