"""The schema is only changed through Alembic, and the migrations match the models."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from oncord import migrate
from oncord.db import Base, get_database
from tests.conftest import _empty_tables


def test_migrations_have_a_single_head() -> None:
    """Two developers' migrations never fork the history."""
    assert len(migrate.heads()) == 1


def test_models_match_migrations(app) -> None:
    """Autogenerate finds nothing left to migrate after upgrade head."""
    engine = get_database(app).engine
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(email)); PostgreSQL checks them.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(app) -> None:
    """The test database was built by the migrations, not by create_all."""
    assert migrate.current_revision(get_database(app).engine) == migrate.heads()[0]


def test_0008_fills_phone_and_country_columns_of_existing_contacts(app) -> None:
    """Contacts from before 0008 get their E.164 phone, mobile flag and country code from legacy text."""
    engine = get_database(app).engine
    _empty_tables(app)
    migrate.downgrade(engine, "0007")
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO contacts (first_name, last_name, phone, country, country_code, "
                "email_marketing_status, sms_marketing_status, created_at, updated_at) VALUES "
                "('A', 'Mobile', '0491 573 820', 'New Zealand', NULL, 'pending', 'pending', :t, :t), "
                "('B', 'Landline', '(03) 9000 0000', 'Australia', 'AU', 'pending', 'pending', :t, :t), "
                "('C', 'Nothing', NULL, NULL, NULL, 'pending', 'pending', :t, :t)"
            ), {"t": datetime(2026, 12, 1, tzinfo=UTC)})
    finally:
        migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT last_name, phone, phone_e164, phone_is_mobile, country_code, country FROM contacts "
            "ORDER BY last_name"
        )).all()
    assert [tuple(r) for r in rows] == [
        ("Landline", "(03) 9000 0000", "+61390000000", False, "AU", "Australia"),
        # New Zealand's code, so the number is read as a New Zealand one (and is not valid there).
        ("Mobile", "0491 573 820", None, False, "NZ", "New Zealand"),
        ("Nothing", None, None, False, None, None),
    ]
