"""Declarative base, engine and session lifetime (per request, per job, per command)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite hands them back naive, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model, with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The model's Core table, typed as Table (SQLAlchemy types __table__ as FromClause)."""
    return cast(Table, model.__table__)


def one_of(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """`column IN values`, sent to PostgreSQL as one array parameter (`= ANY(:values)`).

    An IN list becomes one bind parameter per value: a page's look-up of 100 ids then costs
    the driver a fresh parse of a long statement each time, several times the query itself.
    SQLite has no arrays, so it keeps the IN list.
    """
    element = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
    if session.get_bind().dialect.name == "postgresql":
        return element == any_(bindparam(None, list(values), type_=ARRAY(element.type)))
    return element.in_(list(values))


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the dialect behind the URL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the web app read while a worker writes a sync page.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Holds the engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for a job or command: the caller commits; closed at the end."""
        session = self.sessions()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def init_app(app: Flask, url: str) -> Database:
    """Bind a Database to the app and close the request session on teardown."""
    database = Database(url)
    app.extensions["oncord.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    """The Database of the given or current app."""
    return (app or current_app).extensions["oncord.db"]


def get_session() -> Session:
    """The session of the current request or app context, created on first use."""
    if "db_session" not in g:
        g.db_session = get_database().sessions()
    return g.db_session
