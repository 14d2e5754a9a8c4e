"""Apply and inspect Alembic migrations for an app's database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from oncord.resources import resource_path

MIGRATIONS_DIR = resource_path("migrations")


def alembic_config() -> Config:
    """An Alembic config pointing at the project's migrations folder."""
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database up to the given revision (default: every head)."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database down to the given revision."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the difference between models and database."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has none."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    """The head revisions of the migration scripts (there should be one)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
