"""Dialect-aware bulk writes: many rows per statement, duplicates ignored by constraint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Table, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert_for(session: Session, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; a row that would break a unique constraint is silently skipped.

    RETURNING makes SQLAlchemy batch the rows into multi-row INSERTs ("insertmanyvalues") from
    one cached statement, instead of a statement per row.
    """
    if rows:
        statement = _insert_for(session, table).on_conflict_do_nothing().returning(table.c.id)
        session.execute(statement, list(rows)).all()


def insert_returning_ids(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> dict[Any, int]:
    """Insert rows and map each row's `key` value to its new primary key."""
    if not rows:
        return {}
    statement = table.insert().returning(table.c.id, table.c[key])
    result = session.execute(statement, list(rows))
    return {row[1]: row[0] for row in result}


def update_by_id(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Update many rows by primary key (each dict has "id" plus the columns to set)."""
    if not rows:
        return
    # executemany needs one statement shape, so group rows by the columns they set.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in groups.items():
        values = {c: _bind(c) for c in columns if c != "id"}
        statement = update(table).where(table.c.id == _bind("id")).values(values)
        session.execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in group])


def _bind(name: str) -> Any:
    return bindparam(f"b_{name}")


def can_copy(session: Session) -> bool:
    """Whether new rows can be streamed with PostgreSQL's COPY."""
    return session.get_bind().dialect.name == "postgresql"


def copy_new_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows with COPY (PostgreSQL), ids drawn from the table's sequence; return the ids in order.

    Only for rows that cannot conflict (COPY has no ON CONFLICT). Per row it costs a fraction
    of a multi-row INSERT, whose SQL text the driver must build and parse for every page.
    """
    if not rows:
        return []
    connection = session.connection()
    ids = list(
        connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).scalars()
    )
    columns = [name for name in rows[0] if name != "id"]
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("COPY needs a live psycopg connection; the pooled connection has none")
    quoted = ", ".join(f'"{name}"' for name in ["id", *columns])
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row_id, row in zip(ids, rows, strict=True):
            copy.write_row(
                [
                    row_id,
                    *(Json(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns),
                ]
            )
    return ids
