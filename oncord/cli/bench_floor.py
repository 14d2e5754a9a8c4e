"""The floor of `flask bench sync`: the rows a pull stored, loaded straight into the same schema.

A pull cannot store rows faster than the database can take them with no Cliniko, HTTP, parsing
or upsert logic at all, so the bench reports pull time / floor time. The floor copies every
non-empty table the pull filled (contacts, appointments and class attendances, group
appointments, feed entries, consent rows, reference rows) out of the pulled database, untimed,
then times loading them into a freshly migrated one (the same tables, indexes and foreign keys):
with PostgreSQL's COPY, or on SQLite with executemany, its nearest equivalent.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, func, insert, select, text
from sqlalchemy.exc import SAWarning

from oncord import migrate
from oncord.cli.bench_support import drop_postgres, scratch_database

FLOOR_DATABASE = "oncord_bench_floor"
_SKIP = {"alembic_version"}
_CHUNK = 5_000


@dataclass
class Floor:
    """How long loading the pulled rows took, and which rows they were."""

    seconds: float
    method: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows loaded, all tables together."""
        return sum(self.rows.values())


def measure_floor(source: Engine, db_kind: str, postgres_url: str) -> Floor:
    """Load the rows of `source` into a new migrated database of the same kind; time only the load."""
    url = scratch_database(db_kind, postgres_url, FLOOR_DATABASE, "oncord-bench-floor-")
    target = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        migrate.upgrade(target)
        metadata = MetaData()
        with warnings.catch_warnings():
            # Expression indexes are not reflected; the floor only needs the tables' columns
            # (the target's indexes come from its migrations).
            warnings.simplefilter("ignore", SAWarning)
            metadata.reflect(bind=source)
        tables = [t for t in metadata.sorted_tables if t.name not in _SKIP]
        with target.begin() as conn:
            # Migrations may seed rows (settings and the like); the floor loads the pulled ones.
            for table in reversed(tables):
                if conn.scalar(select(func.count()).select_from(table)):
                    conn.execute(table.delete())
        if db_kind == "postgresql":
            return _copy(source, target, tables)
        return _executemany(source, target, tables)
    finally:
        target.dispose()
        if db_kind == "postgresql":
            drop_postgres(postgres_url, FLOOR_DATABASE)


def _copy(source: Engine, target: Engine, tables: list) -> Floor:
    floor = Floor(0.0, "PostgreSQL COPY")
    with tempfile.TemporaryDirectory(prefix="oncord-bench-floor-") as folder:
        dumps: list[tuple[str, str, Path]] = []
        raw_source = source.raw_connection()
        try:
            with raw_source.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                for table in tables:
                    count = cursor.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
                    if not count:
                        continue
                    columns = ", ".join(f'"{c.name}"' for c in table.columns)
                    path = Path(folder) / f"{table.name}.copy"
                    with path.open("wb") as out, cursor.copy(
                        f'COPY "{table.name}" ({columns}) TO STDOUT (FORMAT binary)'
                    ) as copy:
                        for chunk in copy:
                            out.write(chunk)
                    dumps.append((table.name, columns, path))
                    floor.rows[table.name] = count
        finally:
            raw_source.close()
        raw = target.raw_connection()
        try:
            started = time.perf_counter()
            with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                for name, columns, path in dumps:
                    with path.open("rb") as dump, cursor.copy(
                        f'COPY "{name}" ({columns}) FROM STDIN (FORMAT binary)'
                    ) as copy:
                        while block := dump.read(1 << 20):
                            copy.write(block)
            raw.commit()
            floor.seconds = time.perf_counter() - started
        finally:
            raw.close()
    return floor


def _executemany(source: Engine, target: Engine, tables: list) -> Floor:
    floor = Floor(0.0, "SQLite executemany (the nearest equivalent of COPY)")
    with source.connect() as reader, target.connect() as writer:
        for table in tables:
            count = reader.scalar(select(func.count()).select_from(table)) or 0
            if not count:
                continue
            floor.rows[table.name] = count
            result = reader.execute(select(table).order_by(*table.primary_key.columns))
            for chunk in result.mappings().partitions(_CHUNK):
                rows = [dict(r) for r in chunk]
                started = time.perf_counter()
                writer.execute(insert(table), rows)
                floor.seconds += time.perf_counter() - started
        started = time.perf_counter()
        writer.commit()
        floor.seconds += time.perf_counter() - started
        writer.execute(text("SELECT 1"))
    if target.url.database:
        Path(target.url.database).unlink(missing_ok=True)
    return floor
