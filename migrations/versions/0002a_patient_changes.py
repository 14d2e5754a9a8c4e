"""patient changes outbox

Revision ID: 0002_patient_changes
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oncord.db

revision = "0002_patient_changes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=8), nullable=True),
        sa.Column("first_changed_at", oncord.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", oncord.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pushed_at", oncord.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_patient_changes_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_changes")),
        sa.UniqueConstraint("contact_id", "field", "open_key", name="uq_patient_changes_open_change"),
    )
    op.create_index("ix_patient_changes_status_changed", "patient_changes", ["status", "changed_at"])


def downgrade() -> None:
    op.drop_index("ix_patient_changes_status_changed", table_name="patient_changes")
    op.drop_table("patient_changes")
