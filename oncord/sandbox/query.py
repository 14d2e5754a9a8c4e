"""Cliniko's `q[]=field:<op>value` filters and `sort=` ordering, evaluated over a table's rows."""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncord.sandbox.ids import IdCodec, parse_id
from oncord.sandbox.timeutil import date_to_days, parse_timestamp

NOT_SEARCHABLE = "This column is not searchable."

# Longest operators first, so `~~` is not read as `~` followed by `~value`.
_OPERATORS = ("~~", "!=", ">=", "<=", "!?", "~", "=", ">", "<", "?", "*")
_ALLOWED_OPS: dict[str, tuple[str, ...]] = {
    "date-time": (">=", ">", "<=", "<", "?", "!?", "*"),
    "date": ("=", ">=", ">", "<=", "<", "?", "!?"),
    "int64": ("=", "!=", ">=", ">", "<=", "<", "?", "!?"),
    "string": ("=", "!=", "~", "~~", "?", "!?"),
    "boolean": ("=", "!="),
    "array": ("~",),
}
_VALUELESS = ("?", "!?", "*")
_TRUE = ("true", "t", "1")
_FALSE = ("false", "f", "0")
_DATE_WILDCARD = re.compile(r"[0-9*]{4}-[0-9*]{2}-[0-9*]{2}")
_MAX_LIST = 500


class QueryError(Exception):
    """A bad filter, sort or paging parameter; the message is shown to the API caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Filter:
    """One parsed `q[]` condition."""

    field: str
    op: str
    value: Any
    raw: str


@dataclass(frozen=True)
class Column:
    """How to read one filterable field of a table's row `i`.

    For int64 fields `get` returns the related row's index in `codec`'s table (or None), so
    comparisons run on indices; `rows_for` can list the rows holding given indices quickly.
    """

    get: Callable[[int], Any]
    codec: IdCodec | None = None
    rows_for: Callable[[set[int]], Iterable[int]] | None = None


@dataclass
class TableView:
    """What the query engine needs from a table: its size, columns and sort keys."""

    size: Callable[[], int]
    columns: Mapping[str, Column]
    # Sort key per sortable field; None means the row order itself (creation order).
    sort_keys: Mapping[str, Callable[[int], Any] | None] = field(default_factory=dict)


def parse_filters(raws: Sequence[str], searchable: Mapping[str, str]) -> list[Filter]:
    """Parse raw `q[]` strings against the fields an operation allows; raise QueryError."""
    filters = []
    for raw in raws:
        name, sep, rest = raw.partition(":")
        if not sep or not name:
            raise QueryError(f"Invalid filter '{raw}': use q[]=field:<operator><value>.")
        kind = searchable.get(name)
        if kind is None:
            raise QueryError(NOT_SEARCHABLE)
        op = next((o for o in _OPERATORS if rest.startswith(o)), None)
        if op is None or op not in _ALLOWED_OPS[kind]:
            allowed = " ".join(_ALLOWED_OPS[kind])
            raise QueryError(f"Invalid operator in filter for {name}: use one of {allowed}")
        text = rest[len(op):]
        if op in _VALUELESS:
            if text:
                raise QueryError(f"Filter operator {op} for {name} takes no value")
            value = None
        else:
            value = _parse_value(name, kind, op, text)
        filters.append(Filter(name, op, value, raw))
    return filters


def _parse_value(name: str, kind: str, op: str, text: str) -> Any:
    if kind == "date-time":
        value = parse_timestamp(text)
        if value is None:
            raise QueryError(
                f"Filter value for {name} must be a date-time such as 2024-01-31T09:00:00Z"
            )
        return value
    if kind == "date":
        if "*" in text:
            if op != "=" or not _DATE_WILDCARD.fullmatch(text):
                raise QueryError(f"Filter value for {name} must be a date such as 1980-05-**")
            return re.compile(text.replace("*", "[0-9]"))
        if date_to_days(text) is None:
            raise QueryError(f"Filter value for {name} must be a date such as 1980-05-26")
        return text
    if kind == "int64":
        parts = text.split(",") if op == "=" else [text]
        ids = [parse_id(part) for part in parts[:_MAX_LIST + 1]]
        if not parts or len(parts) > _MAX_LIST or any(i is None for i in ids):
            raise QueryError(f"Filter value for {name} must be a number")
        return ids
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in _TRUE + _FALSE:
            raise QueryError(f"Filter value for {name} must be true or false")
        return lowered in _TRUE
    if kind == "array":
        value = parse_id(text)
        if value is None:
            raise QueryError(f"Filter value for {name} must be a number")
        return value
    if op == "~~":
        # SQL LIKE: % is any run, _ is one character; matched case-insensitively like ILIKE.
        pattern = "".join(
            ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in text
        )
        return re.compile(pattern, re.IGNORECASE | re.DOTALL)
    return text.casefold() if op == "~" else text


def parse_sort(sort: str | None, order: str | None, allowed: Iterable[str]) -> list[tuple[str, bool]]:
    """Parse `sort=a,b:desc` (and the deprecated `order=`) into (field, descending) pairs."""
    if order is not None and order not in ("asc", "desc"):
        raise QueryError("order must be asc or desc")
    if not sort:
        return [("created_at", order == "desc")]
    keys = []
    for part in sort.split(",")[:5]:
        name, _, direction = part.strip().partition(":")
        if name not in allowed:
            raise QueryError(f"Invalid sort column: {name}")
        if direction not in ("", "asc", "desc"):
            raise QueryError(f"Invalid sort direction: {direction}")
        keys.append((name, direction == "desc" or (not direction and order == "desc")))
    return keys


def unhidden(filters: Iterable[Filter]) -> set[str]:
    """Fields whose hidden rows a filter set opts back in to, with `:*` or `:?`."""
    return {f.field for f in filters if f.op in ("*", "?")}


def select(
    table: TableView,
    filters: Sequence[Filter],
    *,
    hidden: Iterable[str] = (),
    base: Callable[[int], bool] | None = None,
    sort: Sequence[tuple[str, bool]] = (),
) -> array:
    """Return the row indices matching every filter, hidden rows left out, in sort order."""
    size = table.size()
    shown = unhidden(filters)
    rows: Iterable[int] = _narrow(table, filters, size)
    predicates = [_hidden_predicate(table, name) for name in hidden if name not in shown]
    if base is not None:
        predicates.append(base)
    predicates += [_predicate(table, f) for f in filters if f.op != "*"]
    for predicate in predicates:
        # Narrowing one predicate at a time keeps each pass a tight comprehension.
        rows = [i for i in rows if predicate(i)]
    result = array("i", rows)
    return _sorted(table, result, sort)


def matches(
    table: TableView,
    filters: Sequence[Filter],
    row: int,
    *,
    hidden: Iterable[str] = (),
) -> bool:
    """Whether one row passes the filters and is not hidden (GET by id follows list rules)."""
    shown = unhidden(filters)
    if any(table.columns[name].get(row) is not None for name in hidden if name not in shown):
        return False
    return all(_predicate(table, f)(row) for f in filters if f.op != "*")


def _narrow(table: TableView, filters: Sequence[Filter], size: int) -> Iterable[int]:
    for f in filters:
        column = table.columns[f.field]
        if f.op == "=" and column.codec is not None:
            decoded = {column.codec.decode(v) for v in f.value}
            wanted = {i for i in decoded if i is not None}
            if f.field == "id":
                return sorted(i for i in wanted if i < size)
            if column.rows_for is not None:
                return sorted(column.rows_for(wanted))
    return range(size)


def _hidden_predicate(table: TableView, name: str) -> Callable[[int], bool]:
    get = table.columns[name].get
    return lambda i: get(i) is None


def _predicate(table: TableView, f: Filter) -> Callable[[int], bool]:
    column = table.columns[f.field]
    get, op, value = column.get, f.op, f.value
    if op == "?":
        return lambda i: get(i) not in (None, "")
    if op == "!?":
        return lambda i: get(i) in (None, "")
    if column.codec is not None:
        return _id_predicate(get, column.codec, op, value)
    if isinstance(value, re.Pattern):
        return lambda i: (v := get(i)) is not None and value.fullmatch(v) is not None
    if op == "~" and isinstance(value, str):
        return lambda i: (v := get(i)) is not None and value in v.casefold()
    if op == "~":
        return lambda i: value in (get(i) or ())
    return _compare(get, op, value)


def _id_predicate(
    get: Callable[[int], Any], codec: IdCodec, op: str, values: list[int]
) -> Callable[[int], bool]:
    if op in ("=", "!="):
        wanted = {codec.decode(v) for v in values} - {None}
        if op == "=":
            return lambda i: get(i) in wanted
        return lambda i: (v := get(i)) is not None and v not in wanted
    # Ids grow with the index, so an id bound becomes an index bound.
    limit = values[0]
    below = {"<=": codec.count_at_most(limit), "<": codec.count_at_most(limit - 1)}
    if op in below:
        bound = below[op]
        return lambda i: (v := get(i)) is not None and v < bound
    bound = codec.count_at_most(limit if op == ">" else limit - 1)
    return lambda i: (v := get(i)) is not None and v >= bound


def _compare(get: Callable[[int], Any], op: str, value: Any) -> Callable[[int], bool]:
    if op == "=":
        return lambda i: get(i) == value
    if op == "!=":
        return lambda i: (v := get(i)) is not None and v != value
    if op == ">":
        return lambda i: (v := get(i)) is not None and v > value
    if op == ">=":
        return lambda i: (v := get(i)) is not None and v >= value
    if op == "<":
        return lambda i: (v := get(i)) is not None and v < value
    return lambda i: (v := get(i)) is not None and v <= value


def _sorted(table: TableView, rows: array, sort: Sequence[tuple[str, bool]]) -> array:
    if all(table.sort_keys.get(name) is None and not desc for name, desc in sort):
        return rows  # rows are already in creation order
    ordered = list(rows)
    # Python's sort is stable, so sorting by the last key first gives a multi-key order.
    for name, desc in reversed(sort):
        key = table.sort_keys.get(name)
        if key is None:
            ordered.sort(reverse=desc)
        else:
            ordered.sort(key=key, reverse=desc)
    return array("i", ordered)
