"""The schema is only changed through Alembic, and the migrations match the models."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from oncord import migrate
from oncord.db import Base, get_database


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
