"""Dialect-aware bulk writes: many rows per statement, duplicates ignored by constraint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert_for(session: Session, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; a row that would break a unique constraint is silently skipped.

    One multi-row statement per chunk: an executemany would cost a round trip per row.
    """
    for start in range(0, len(rows), 500):
        chunk = list(rows[start : start + 500])
        session.execute(_insert_for(session, table).values(chunk).on_conflict_do_nothing())


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
    from sqlalchemy import bindparam

    return bindparam(f"b_{name}")
