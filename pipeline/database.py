"""`Database`: the only code in csmatch that talks SQL (SQLAlchemy 2 Core; SQLite and PostgreSQL alike).

The SQL text lives in ``sql/`` (schema, migrations, named queries); values are always bound parameters.
Bulk paths: PostgreSQL ``COPY`` (psycopg), SQLite ``executemany`` of multi-row ``INSERT``s; a registry load
is one transaction that rebuilds the registry's secondary indexes after its inserts, and queueing goes chunk
by chunk (one transaction each, resumable) through a temporary table (one ``INSERT … SELECT`` per item kind).
Timestamps are naive UTC. On SQLite every write transaction is ``BEGIN IMMEDIATE``, which serialises writers
(a claim can never interleave with another claim); on PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import sqlalchemy as sa
from psycopg import sql as pgsql
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult

import sql
from loaders.registry import REGISTRY_SCHEMAS, RegistryExtract, conform_table
from pipeline.log import get_logger
from worklists import ITEM_SCHEMA
from worklists.rules import address_item_keys, protect_addresses

log = get_logger(__name__)

SNAPSHOT_ID = r"\d{8}T\d{6}-[0-9a-f]{8}"  # a registry snapshot's id: load time (UTC) and 32 random bits
ADDRESS_KEYS_VERSION = 7  # the migration whose data step re-keys locate-hit address items
REKEY_BATCH = 50_000
_STORED_ADDRESS_ITEM = {
    "item_id": pl.Int64(), "person_id": pl.String(), "case_id": pl.String(), "new_info": pl.String(),
    "idempotency_key": pl.String(),
}  # fmt: skip

BATCH_ROWS = 100_000
# SQLite: rows converted to Python values at a time (small enough for the allocator to reuse its memory),
# rows per multi-row INSERT (bounded by the 999 parameters older SQLite builds allow), and the page cache
# (KiB) and temp store of `_bulk_write`: queueing a million work items 2x faster than the 2 MiB default
# cache. Its WAL is checkpointed once per 1 GiB, not once per commit: index pages changed by several
# chunks' commits are written to the database once (20M wage records: 103 -> 89 GB written).
SQLITE_BATCH_ROWS = 16_384
SQLITE_ROWS_PER_INSERT = 64
SQLITE_MAX_PARAMETERS = 999
SQLITE_BULK_PRAGMAS = {"cache_size": -262_144, "temp_store": 2}
SQLITE_WAL_CHECKPOINT_BYTES = 1 << 30
# A new SQLite database's page size: 16 KiB, not the default 4 KiB: a quarter of the pages (and WAL frames)
# to write for the same rows (2M NCPs' registry load 18.4 -> 14.8 s of database time, docs/performance.md).
SQLITE_PAGE_SIZE = 16_384

# Registry extract tables and their frame types: `loaders.registry.REGISTRY_SCHEMAS`.
REGISTRY_TABLES = tuple(REGISTRY_SCHEMAS)

# Match-frame columns stored as columns; every other `<field>_level` / `<field>_weight` goes into `evidence`.
MATCH_COLUMNS: dict[str, pl.DataType] = {
    "record_number": pl.Int64(),
    "source": pl.String(),
    "file_name": pl.String(),
    "person_id": pl.String(),
    "match_weight": pl.Float64(),
    "match_probability": pl.Float64(),
    "decision": pl.String(),
    "runner_up_person_id": pl.String(),
    "runner_up_weight": pl.Float64(),
    "blocking_rules": pl.String(),
    "reasons": pl.String(),
    "model_version": pl.String(),
}

# The work_item row: item_id and the key first, then the rest of `worklists.ITEM_SCHEMA`, then queue state.
ITEM_COLUMNS: dict[str, pl.DataType] = {
    "item_id": pl.Int64(),
    "idempotency_key": pl.String(),
    **ITEM_SCHEMA,
    "status": pl.String(),
    "assigned_to": pl.String(),
    "claimed_at": pl.Datetime("us"),
    "disposition": pl.String(),
    "resolved_at": pl.Datetime("us"),
    "created_at": pl.Datetime("us"),
}
# What `list_items` adds: the NCP's SSN from the registry (for masked exports) and how many sightings.
LISTED_COLUMNS: dict[str, pl.DataType] = {**ITEM_COLUMNS, "ssn": pl.String(), "evidence_count": pl.Int64()}
QUEUED_ITEM_FIELDS = (
    "idempotency_key", "item_kind", "case_id", "person_id", "caseworker_id", "office_id", "source",
    "new_info",
    "due_date", "family_violence", "match_weight", "match_probability", "decision", "reasons", "file_sha256",
    "file_name", "record_number", "run_id", "model_version",
)  # fmt: skip

FILE_STATUSES = ("processed", "rejected", "failed")
DISPOSITIONS = ("confirmed", "wrong-person", "already-known", "not-actionable", "duplicate")
MATCH_CONFIRMING = ("confirmed", "already-known", "not-actionable")  # the specialist judged the match right
ITEM_STATUSES = ("open", "claimed", "resolved")
_BOOLEAN_COLUMNS = {"family_violence", "is_current"}


def _null(_: None) -> None:
    return None


# pysqlite binds a None only after an adapter lookup that raises and clears an AttributeError (2.5x the cost
# of binding a str; a registry load binds ~10M of them); with an adapter registered it is a dict hit. The
# adapter returns None itself, so what is stored (NULL) is the same for every sqlite3 user in the process.
sqlite3.register_adapter(type(None), _null)


class RegistryLoadError(RuntimeError):
    """A registry load failed (e.g. a duplicate person_id or case_id); the previous snapshot is untouched."""


@dataclass(frozen=True)
class RegistryLoadReport:
    """What a registry load did: row counts per table, how the NCPs changed vs the previous snapshot, and
    how many dates per `table.column` were not dates (`loaders.registry.conform_table`: nulled, or for
    known_employer.end_date "ended, date unknown"; counts only)."""

    snapshot_id: str
    previous_snapshot_id: str | None
    rows: dict[str, int]
    ncp_added: int
    ncp_removed: int
    ncp_changed: int
    seconds: float
    unreadable_dates: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "previous_snapshot_id": self.previous_snapshot_id,
            **self.rows,
            "ncp_added": self.ncp_added,
            "ncp_removed": self.ncp_removed,
            "ncp_changed": self.ncp_changed,
            "unreadable_dates": dict(self.unreadable_dates),
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    loaded_at: datetime
    rows: dict[str, int]


@dataclass(frozen=True)
class FileClaim:
    """The caller now owns the file's processing (first sight, or a retry after `failed`)."""

    sha256: str
    source: str
    file_name: str
    size: int
    received_at: datetime
    attempt: int


@dataclass(frozen=True)
class ManifestEntry:
    sha256: str
    source: str
    file_name: str
    size: int
    received_at: datetime
    status: str
    reason: str | None
    attempts: int
    claimed_at: datetime
    updated_at: datetime


@dataclass
class QueueReport:
    """What `queue_run` stored: matches, new items (by kind), sightings that corroborated known items."""

    run_id: str
    matches_stored: int = 0
    new_items: int = 0
    corroborated: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @classmethod
    def resumed(cls, run_id: str, stored: str | None) -> QueueReport:
        """The counts a run's earlier attempts committed (`run.queue_report`), or zeros."""
        return cls(run_id, **json.loads(stored)) if stored else cls(run_id)

    def progress(self, queued_through: int) -> dict[str, Any]:
        """The `run_queue_progress_update` parameters after a chunk queued up to `queued_through`."""
        counts = {k: v for k, v in self.as_dict().items() if k != "run_id"}
        return {"run_id": self.run_id, "queued_through": queued_through, "queue_report": json.dumps(counts)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _create_private_file(path: Path) -> None:
    """An owner-only (0600) database file, parents created; an existing file keeps its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


class Database:
    """All of csmatch's SQL: registry snapshot, file manifest, runs, matches, the work queue and its audit."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        parsed = sa.engine.make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _create_private_file(Path(parsed.database))
            self.engine = sa.create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 60})
            _serialise_sqlite_writers(self.engine)
        elif self.dialect == "postgresql":
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=20)
        else:
            raise ValueError(f"unsupported database dialect: {self.dialect}")

    def dispose(self) -> None:
        self.engine.dispose()

    # --- plumbing ---------------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(csmatch_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _bulk_write(self) -> Iterator[Connection]:
        """One `_bulk_transaction` on its own `_bulk_connection`."""
        with self._bulk_connection() as conn, self._bulk_transaction(conn):
            yield conn

    @contextmanager
    def _bulk_connection(self) -> Iterator[Connection]:
        """A writing connection for adding many rows to indexed tables: on SQLite `SQLITE_BULK_PRAGMAS` and
        a WAL checkpoint per `SQLITE_WAL_CHECKPOINT_BYTES` while it is open (random index inserts hit the
        page cache, not the WAL)."""
        with self.engine.connect().execution_options(csmatch_write=True) as conn:
            if self.dialect != "sqlite":
                yield conn
                return
            raw = conn.connection.driver_connection
            assert raw is not None
            page_size = raw.execute("PRAGMA page_size").fetchone()[0]
            bulk = {**SQLITE_BULK_PRAGMAS, "wal_autocheckpoint": SQLITE_WAL_CHECKPOINT_BYTES // page_size}
            before = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in bulk}
            for name, value in bulk.items():
                raw.execute(f"PRAGMA {name} = {int(value)}")
            try:
                yield conn
            finally:
                for name, value in before.items():
                    raw.execute(f"PRAGMA {name} = {int(value)}")

    @contextmanager
    def _bulk_transaction(self, conn: Connection) -> Iterator[Connection]:
        """A write transaction on a `_bulk_connection` (on PostgreSQL its sorts stay in memory)."""
        with conn.begin():
            if self.dialect != "sqlite":
                self._run(conn, "bulk_write_settings")
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _run(
        self, conn: Connection, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = ()
    ) -> Any:
        """Execute a named query's statements; the last statement's result."""
        result: CursorResult[Any] | None = None
        for statement in sql.query(name, self.dialect):
            result = conn.execute(sa.text(statement), params or {})
        return result

    def _rows(self, conn: Connection, name: str, params: Mapping[str, Any] = {}) -> list[dict[str, Any]]:
        return [self._typed(row._mapping) for row in self._run(conn, name, params)]

    def _typed(self, row: Mapping[Any, Any]) -> dict[str, Any]:
        """Python values by column-name convention (SQLite returns dates and timestamps as text)."""
        typed: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, str) and self.dialect == "sqlite":
                if key.endswith("_at"):
                    value = datetime.fromisoformat(value)
                elif key.endswith("_date") or key == "dob":
                    value = date.fromisoformat(value)
            elif isinstance(value, int) and key in _BOOLEAN_COLUMNS:
                value = bool(value)
            typed[key] = value
        return typed

    def _frame(self, rows: list[dict[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=dict(schema)) if rows else pl.DataFrame(schema=dict(schema))

    def _bound(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Values the driver binds as-is: SQLite gets ISO text for dates and timestamps, 0/1 for booleans
        (what pysqlite stores for a bool, without its adapter lookup)."""
        if self.dialect != "sqlite":
            return frame
        temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
        booleans = [c for c, t in frame.schema.items() if t == pl.Boolean()]
        return frame.with_columns(pl.col(temporal).cast(pl.String), pl.col(booleans).cast(pl.Int64))

    def _bulk_insert(
        self, conn: Connection, table: str, frame: pl.DataFrame, constants: Mapping[str, Any] = {}
    ) -> None:
        """Append a frame (columns = table columns) plus constant columns: COPY on PostgreSQL, multi-row
        INSERTs on SQLite (a constant, or a column with one value in every row, is bound once per statement,
        not once per row)."""
        if frame.is_empty():
            return
        if self.dialect == "postgresql":
            frame = frame.select(*(pl.lit(v).alias(c) for c, v in constants.items()), pl.all())
            statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, frame.columns))
            )
            with _as_sqlalchemy_error(f"COPY {table}"), self._copy(conn, statement) as copy:
                for batch in frame.iter_slices(BATCH_ROWS):
                    copy.write(batch.write_csv(include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f"))
            return
        frame = self._bound(frame)
        same = frame.select(pl.all().eq_missing(pl.all().first()).all()).row(0, named=True)
        if not all(same.values()):  # e.g. a run's id, file and model in each of its work items
            constants = {**constants, **{c: frame.item(0, c) for c, s in same.items() if s}}
            frame = frame.select(c for c, s in same.items() if not s)
        fixed = tuple(constants.values())
        per_statement = max(
            1, min(SQLITE_ROWS_PER_INSERT, (SQLITE_MAX_PARAMETERS - len(fixed)) // frame.width)
        )
        names = [*constants, *frame.columns]
        many = self._sqlite_insert(table, names, len(fixed), per_statement)
        single = self._sqlite_insert(table, names, len(fixed), 1)
        for batch in frame.iter_slices(SQLITE_BATCH_ROWS):
            # Zipped column lists: zip reuses its row tuple, so only one tuple per statement is allocated.
            rows = zip(*(series.to_list() for series in batch.get_columns()), strict=True)
            whole = batch.height // per_statement
            if whole:
                flat = (fixed + tuple(chain.from_iterable(islice(rows, per_statement))) for _ in range(whole))
                conn.exec_driver_sql(many, list(flat))
            if batch.height % per_statement:
                conn.exec_driver_sql(single, [fixed + row for row in rows])

    def _sqlite_insert(self, table: str, columns: list[str], n_fixed: int, n_rows: int) -> str:
        """The INSERT of `columns` with n_rows VALUES groups; a group's first n_fixed placeholders are
        `?1…?n`, the same parameters in every group."""
        insert = sa.insert(sa.table(table, *map(sa.column, columns)))
        head = str(insert.compile(dialect=self.engine.dialect)).rpartition(" VALUES ")[0]
        placeholders = [f"?{i}" for i in range(1, n_fixed + 1)] + ["?"] * (len(columns) - n_fixed)
        return head + " VALUES " + ", ".join(["(" + ", ".join(placeholders) + ")"] * n_rows)

    @contextmanager
    def _copy(
        self, conn: Connection, statement: pgsql.Composed, params: Mapping[str, Any] | None = None
    ) -> Iterator[psycopg.Copy]:
        """psycopg COPY on the connection's own transaction."""
        raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
        with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
            yield copy

    def _read_frame(
        self, conn: Connection, select: sa.Select[Any], schema: Mapping[str, pl.DataType]
    ) -> pl.DataFrame:
        """A SELECT into a frame built column by column, with its values still bound parameters: COPY … TO
        STDOUT on PostgreSQL, the driver's own cursor on SQLite (plain tuples, no per-row Result objects).
        Dates, timestamps and booleans come back typed from both."""
        compiled = select.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        booleans = [name for name, t in schema.items() if t == pl.Boolean()]
        if self.dialect == "postgresql":
            buffer = io.BytesIO()
            statement = pgsql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(pgsql.SQL(str(compiled)))
            with _as_sqlalchemy_error("COPY TO"), self._copy(conn, statement, compiled.params) as copy:
                for block in copy:
                    buffer.write(block)
            if buffer.tell() == 0:
                return pl.DataFrame(schema=dict(schema))
            buffer.seek(0)
            as_text = {name: pl.String() if name in booleans else t for name, t in schema.items()}
            frame = pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=as_text)
            return frame.with_columns(pl.col(booleans) == "t")  # PostgreSQL's CSV spells booleans t / f
        raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        rows = raw.execute(str(compiled), params).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        # SQLite holds dates and timestamps as ISO text and booleans as 0 / 1.
        stored_as = {pl.Date(): pl.String(), pl.Datetime("us"): pl.String(), pl.Boolean(): pl.Int64()}
        frame = pl.DataFrame(
            [
                pl.Series(name, column, dtype=stored_as.get(t, t), strict=False)
                for (name, t), column in zip(schema.items(), values, strict=True)
            ]
        )
        dates = [name for name, t in schema.items() if t == pl.Date()]
        stamps = [name for name, t in schema.items() if t == pl.Datetime("us")]
        return frame.with_columns(
            pl.col(dates).str.to_date("%Y-%m-%d"),
            pl.col(stamps).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us"),
            pl.col(booleans).cast(pl.Boolean),
        )

    # --- schema ---------------------------------------------------------------------------------------

    def create_schema(self) -> list[int]:
        """Create or upgrade the schema (idempotent); the versions applied now. A current schema costs one
        read transaction (no write lock)."""
        migrations = sql.migrations(self.dialect)
        with self._read() as conn:
            if self._applied_versions(conn) >= {m.version for m in migrations}:
                return []
        applied: list[int] = []
        with self._write() as conn:
            done = self._applied_versions(conn)
            for migration in migrations:
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    conn.exec_driver_sql(statement)
                if migration.version == ADDRESS_KEYS_VERSION:
                    self._rekey_address_items(conn)
                self._run(
                    conn,
                    "schema_version_insert",
                    {"version": migration.version, "name": migration.name, "applied_at": _now()},
                )
                applied.append(migration.version)
        if applied:
            log.info("schema_migrated", versions=applied)
        return applied

    def _rekey_address_items(self, conn: Connection) -> None:
        """Migration 007's data step: re-key the queued locate-hit address items to the address fact with
        line 2 (`worklists.rules.address_fact`), so a later sighting of the same address corroborates them.
        Batches by item id keep memory flat; an item whose new key is taken keeps its own."""
        after, rekeyed, kept = 0, 0, 0
        while rows := self._run(conn, "address_items_after", {"after": after, "batch": REKEY_BATCH}).all():
            after = rows[-1].item_id
            stored = pl.DataFrame([r._asdict() for r in rows], schema=_STORED_ADDRESS_ITEM, orient="row")
            changed = (
                address_item_keys(stored)
                .join(stored.select("item_id", old_key="idempotency_key"), on="item_id")
                .filter(pl.col("idempotency_key") != pl.col("old_key"))
            )
            if changed.height:
                updated = self._run(
                    conn, "item_rekey", changed.select("item_id", "idempotency_key").to_dicts()
                )
                rekeyed += updated.rowcount
                kept += changed.height - updated.rowcount
        log.info("address_items_rekeyed", rekeyed=rekeyed, kept_for_a_taken_key=kept)

    def _applied_versions(self, conn: Connection) -> set[int]:
        if not self._run(conn, "schema_version_table_exists").scalar_one():
            return set()
        return set(self._run(conn, "schema_versions").scalars())

    def schema_versions(self) -> list[int]:
        with self._read() as conn:
            return list(self._run(conn, "schema_versions").scalars())

    # --- registry -------------------------------------------------------------------------------------

    def replace_registry(self, extract: Any) -> RegistryLoadReport:
        """Swap in a new registry snapshot as one transaction; a failure leaves the previous one in place.

        `extract` has frames `ncp`, `alias`, `ncp_case`, `known_employer`, `known_address` (attributes or
        mapping keys; all but `ncp` may be None or missing), and may carry the `unreadable_dates` counts of
        the reader (`loaders.registry.RegistryExtract`, whose frames `read_extract` already conformed); the
        report adds those `conform_table` finds in other frames here.
        """
        started = time.perf_counter()
        unreadable = dict(_table_of(extract, "unreadable_dates") or {})
        frames: dict[str, pl.DataFrame] = {}
        for name in REGISTRY_TABLES:
            if isinstance(extract, RegistryExtract):  # conformed by the reader: not a second pass
                frames[name] = getattr(extract, name)
                continue
            frames[name], counts = _conformed(name, _table_of(extract, name))
            for column, count in counts.items():
                unreadable[column] = unreadable.get(column, 0) + count
        if frames["ncp"].is_empty():
            raise ValueError("the registry extract has no NCPs")
        snapshot_id = f"{_now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"  # the form SNAPSHOT_ID matches
        rows = {name: frame.height for name, frame in frames.items()}
        try:
            previous_id, changes = self._swap_registry(snapshot_id, frames)
        except sa.exc.DBAPIError as error:
            kind = type(error.orig).__name__
            raise RegistryLoadError(
                f"registry load failed ({kind}); the previous snapshot is kept"
            ) from error
        report = RegistryLoadReport(
            snapshot_id=snapshot_id,
            previous_snapshot_id=previous_id,
            rows=rows,
            ncp_added=changes["added"],
            ncp_removed=changes["removed"],
            ncp_changed=changes["changed"],
            seconds=round(time.perf_counter() - started, 3),
            unreadable_dates=unreadable,
        )
        log.info("registry_replaced", **report.as_dict())
        return report

    def _swap_registry(
        self, snapshot_id: str, frames: dict[str, pl.DataFrame]
    ) -> tuple[str | None, dict[str, int]]:
        """Insert the new snapshot, diff its NCPs against the current one, drop the old: one transaction.

        The registry tables' secondary indexes (on PostgreSQL also the truncated tables' primary keys) are
        dropped for the bulk insert and built again after it; a failed load rolls that back with the rest.
        """
        with self._write() as conn:
            if self.dialect == "postgresql":
                self._run(conn, "registry_load_settings")
            previous = self._run(conn, "snapshot_current").mappings().first()
            previous_id = previous["snapshot_id"] if previous else None
            counts = {f"{name}_rows": frame.height for name, frame in frames.items()}
            self._run(conn, "snapshot_insert", {"snapshot_id": snapshot_id, "loaded_at": _now(), **counts})
            self._run(conn, "registry_clear_details")
            rebuilt = self._run(conn, "registry_keys_to_rebuild").all()
            for drop, _ in rebuilt:
                conn.exec_driver_sql(drop)
            for name, frame in frames.items():
                self._bulk_insert(conn, f"registry_{name}", frame, {"snapshot_id": snapshot_id})
            for _, create in rebuilt:
                conn.exec_driver_sql(create)
            self._run(conn, "registry_analyze")
            diff = self._run(conn, "ncp_diff", {"new": snapshot_id, "old": previous_id}).mappings().one()
            changes = {
                "added": frames["ncp"].height - diff["kept"],
                "removed": (previous["ncp_rows"] if previous else 0) - diff["kept"],
                "changed": diff["changed"],
            }
            self._run(conn, "registry_drop_previous_ncp", {"snapshot_id": snapshot_id})
            self._run(conn, "snapshot_make_current", {"snapshot_id": snapshot_id, **changes})
        return previous_id, changes

    def current_snapshot(self) -> Snapshot | None:
        with self._read() as conn:
            found = self._rows(conn, "snapshot_current")
        if not found:
            return None
        row = found[0]
        return Snapshot(row["snapshot_id"], row["loaded_at"], {t: row[f"{t}_rows"] for t in REGISTRY_TABLES})

    def read_registry(
        self,
        tables: Sequence[str] = REGISTRY_TABLES,
        person_ids: Sequence[str] | None = None,
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, pl.DataFrame]:
        """The current snapshot's tables as frames (columns as in the extract), optionally of some NCPs and
        only some columns of a table (`columns`: table -> column names)."""
        unknown = set(tables) - set(REGISTRY_TABLES)
        if unknown:
            raise ValueError(f"unknown registry tables: {sorted(unknown)}")
        with self._read() as conn:
            if person_ids is not None:
                self._run(conn, "wanted_person_create")
                wanted = pl.DataFrame({"person_id": person_ids}, schema={"person_id": pl.String()}).unique()
                self._bulk_insert(conn, "wanted_person", wanted.drop_nulls())
            frames = {}
            # Always in REGISTRY_TABLES order: the order a registry load locks them in on PostgreSQL.
            for name in (t for t in REGISTRY_TABLES if t in tables):
                wanted_columns = (columns or {}).get(name, REGISTRY_SCHEMAS[name])
                schema = {c: REGISTRY_SCHEMAS[name][c] for c in wanted_columns}
                select: Any = sa.select(*map(sa.column, schema)).select_from(sa.table(f"registry_{name}"))
                if person_ids is not None:
                    wanted_ids: sa.Select[Any] = sa.select(sa.column("person_id")).select_from(
                        sa.table("wanted_person")
                    )
                    # The current snapshot's id too, so the (snapshot_id, person_id) index is searched
                    # for the wanted NCPs instead of every registry row being scanned.
                    current: sa.Select[Any] = (
                        sa.select(sa.column("snapshot_id"))
                        .select_from(sa.table("registry_snapshot"))
                        .where(sa.column("is_current"))
                    )
                    select = select.where(
                        sa.column("snapshot_id") == current.scalar_subquery(),
                        sa.column("person_id").in_(wanted_ids),
                    )
                frames[name] = self._read_frame(conn, select, schema)
            if person_ids is not None:
                self._run(conn, "wanted_person_drop")
        return frames

    # --- file manifest --------------------------------------------------------------------------------

    def claim_file(
        self, source: str, file_name: str, sha256: str, size: int, received_at: datetime
    ) -> FileClaim | None:
        """Claim a file by content; None when claimed or processed before.

        A `failed` file is re-claimed, and so is one `rejected` as another source (the wrong command).
        """
        params = {
            "sha256": sha256,
            "source": source,
            "file_name": file_name,
            "size_bytes": size,
            "received_at": _utc_naive(received_at),
            "now": _now(),
        }
        with self._write() as conn:
            claimed = (
                self._run(conn, "manifest_claim", params).rowcount
                or self._run(conn, "manifest_reclaim_failed", params).rowcount
            )
            if not claimed:
                return None
            row = self._rows(conn, "manifest_get", {"sha256": sha256})[0]
        return FileClaim(
            sha256, row["source"], row["file_name"], row["size_bytes"], row["received_at"], row["attempts"]
        )

    def mark_file(self, sha256: str, status: str, reason: str | None = None) -> None:
        if status not in FILE_STATUSES:
            raise ValueError(f"file status must be one of {FILE_STATUSES}")
        with self._write() as conn:
            updated = self._run(
                conn, "manifest_mark", {"sha256": sha256, "status": status, "reason": reason, "now": _now()}
            )
            if not updated.rowcount:
                raise KeyError(f"no manifest entry for sha256 {sha256[:12]}")

    def manifest_entry(self, sha256: str) -> ManifestEntry | None:
        with self._read() as conn:
            found = self._rows(conn, "manifest_get", {"sha256": sha256})
        if not found:
            return None
        row = found[0]
        return ManifestEntry(
            sha256=row["sha256"],
            source=row["source"],
            file_name=row["file_name"],
            size=row["size_bytes"],
            received_at=row["received_at"],
            status=row["status"],
            reason=row["reason"],
            attempts=row["attempts"],
            claimed_at=row["claimed_at"],
            updated_at=row["updated_at"],
        )

    # --- runs -----------------------------------------------------------------------------------------

    def start_run(
        self, run_id: str, source: str, file_sha256: str, file_name: str, model_version: str, snapshot_id: str
    ) -> None:
        """Record a run as running (a re-run of the same run id restarts it)."""
        params = {
            "run_id": run_id,
            "source": source,
            "file_sha256": file_sha256,
            "file_name": file_name,
            "model_version": model_version,
            "snapshot_id": snapshot_id,
            "now": _now(),
        }
        with self._write() as conn:
            self._run(conn, "run_start", params)

    def finish_run(self, run_id: str, summary: Mapping[str, Any]) -> None:
        text = json.dumps(summary, default=str, sort_keys=True)
        with self._write() as conn:
            if not self._run(conn, "run_finish", {"run_id": run_id, "summary": text, "now": _now()}).rowcount:
                raise KeyError(f"no run {run_id}")

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            found = self._rows(conn, "run_get", {"run_id": run_id})
        if not found:
            return None
        run = found[0]
        run["summary"] = json.loads(run["summary"]) if run["summary"] else None
        return run

    # --- queue ----------------------------------------------------------------------------------------

    def queue_run(self, run_id: str, matches: pl.DataFrame, items: pl.DataFrame) -> QueueReport:
        """Store the run's matches and upsert its work items by idempotency key.

        A new key inserts an `open` item; a known key only adds a `work_item_evidence` row (corroboration).
        Queueing the same run again changes nothing.
        """
        return self.queue_run_chunks(run_id, [(matches, items)])

    def queue_run_chunks(
        self, run_id: str, chunks: Iterable[tuple[pl.DataFrame, pl.DataFrame]]
    ) -> QueueReport:
        """`queue_run` over (matches, items) chunks in record order, one transaction per chunk: memory and
        the database's journal stay bounded by a chunk, not the run (a 20M-record wage file included).

        Each chunk's transaction also records how far the run is queued (`run.queued_through`, the chunk's
        last record number) and the counts so far, so a run killed or failed part way resumes after its last
        committed chunk, and its report covers every attempt. Within a chunk, items go in bulk into a
        temporary table, then into `work_item` and `work_item_evidence` with one `INSERT … SELECT … ON
        CONFLICT` per item kind (kinds by first appearance, then key and record number), so ids and
        first-sighting wins are as with one insert per item in that order.
        """
        now = _now()
        with self._bulk_connection() as conn:
            with self._bulk_transaction(conn):
                progress = self._run(conn, "run_queue_progress", {"run_id": run_id}).one_or_none()
                if progress is None:
                    raise KeyError(f"no run {run_id}: start it before queueing")
                after = -1 if progress.queued_through is None else int(progress.queued_through)
                report = QueueReport.resumed(run_id, progress.queue_report)
                params = {"run_id": run_id, "after": after}
                store_matches = self._run(conn, "run_match_count_after", params).scalar_one() == 0
                self._run(conn, "queued_item_create")
            seen = -1
            for matches, items in chunks:
                numbers = pl.concat([matches["record_number"], items["record_number"]]).cast(pl.Int64).sort()
                if numbers.is_empty():
                    continue
                if numbers[0] <= seen:
                    raise ValueError("queue chunks must come in record order (they resume by record number)")
                seen = int(numbers[-1])
                matches = matches.filter(pl.col("record_number") > after)
                items = items.filter(pl.col("record_number") > after)
                if matches.is_empty() and items.is_empty():
                    continue
                with self._bulk_transaction(conn):
                    if store_matches:
                        stored = _match_rows(run_id, matches)
                        self._bulk_insert(conn, "run_match", stored)
                        report.matches_stored += stored.height
                    self._queue_items(conn, items, now, report)
                    after = seen
                    self._run(conn, "run_queue_progress_update", report.progress(after))
            with conn.begin():
                self._run(conn, "queued_item_drop")
        log.info(
            "run_queued_items",
            **{k: v for k, v in report.as_dict().items() if k != "by_kind"},
            **report.by_kind,
        )
        return report

    def _queue_items(self, conn: Connection, items: pl.DataFrame, now: datetime, report: QueueReport) -> None:
        """One chunk's items into the queue (see `queue_run_chunks`); counts added to `report`."""
        queued, ranges = _queue_order(items)
        self._run(conn, "queued_item_clear")
        self._bulk_insert(conn, "queued_item", queued)
        for kind, first, stop in ranges:
            params = {"first": first, "stop": stop, "now": now}
            inserted = self._run(conn, "work_item_insert_queued", params).rowcount
            sightings = self._run(conn, "work_item_evidence_insert_queued", params).rowcount
            report.new_items += inserted
            report.corroborated += sightings - inserted
            if inserted:
                report.by_kind[kind] = report.by_kind.get(kind, 0) + inserted

    # --- worklist -------------------------------------------------------------------------------------

    def _item_select(self) -> sa.Select[Any]:
        """Items with the NCP's SSN, their sightings and `family_violence` as of now: set at queue time or
        by any case of the NCP in the current registry snapshot (a flag set after queueing protects too)."""
        item = sa.table("work_item", *map(sa.column, ITEM_COLUMNS))
        ncp = sa.table("registry_ncp", sa.column("snapshot_id"), sa.column("person_id"), sa.column("ssn"))
        evidence = sa.table("work_item_evidence", sa.column("item_id"))
        count = (
            sa.select(sa.func.count())
            .select_from(evidence)
            .where(evidence.c.item_id == item.c.item_id)
            .scalar_subquery()
        )
        # Per item (an index probe), not one pass over every case: a claim lists two items.
        protected_now = _family_violence_cases(item.c.person_id).exists()
        family_violence = sa.or_(item.c.family_violence == sa.true(), protected_now)
        columns = [family_violence.label(c.name) if c.name == "family_violence" else c for c in item.c]
        return (
            sa.select(*columns, ncp.c.ssn, count.label("evidence_count"))
            .select_from(
                item.outerjoin(
                    ncp,
                    sa.and_(ncp.c.snapshot_id == _current_snapshot_id(), ncp.c.person_id == item.c.person_id),
                )
            )
            .order_by(sa.nulls_last(item.c.due_date.asc()), item.c.item_id)
        )

    def _listed(self, conn: Connection, select: sa.Select[Any]) -> pl.DataFrame:
        return protect_addresses(self._read_frame(conn, select, LISTED_COLUMNS))

    def list_items(
        self,
        worker: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> pl.DataFrame:
        """Items by due date (then id), with the NCP's SSN; a worker's: assigned or routed to them."""
        select = self._item_select()
        c = select.selected_columns
        if worker is not None:
            select = select.where(
                sa.or_(c.assigned_to == worker, sa.and_(c.assigned_to.is_(None), c.caseworker_id == worker))
            )
        if status is not None:
            select = select.where(c.status == status)
        if kind is not None:
            select = select.where(c.item_kind == kind)
        if limit is not None:
            select = select.limit(limit)
        with self._read() as conn:
            return self._listed(conn, select)

    def claim_items(self, worker: str, n: int) -> pl.DataFrame:
        """Take up to n open items (the worker's routed ones first, then by due date); never one twice."""
        now = _now()
        with self._write() as conn:
            ids = list(self._run(conn, "claim_items", {"worker": worker, "n": n, "now": now}).scalars())
            if not ids:
                return pl.DataFrame(schema=LISTED_COLUMNS)
            actions = [
                {
                    "item_id": i,
                    "action": "claim",
                    "worker": worker,
                    "disposition": None,
                    "note": None,
                    "now": now,
                }
                for i in ids
            ]
            self._run(conn, "action_insert", actions)
            select = self._item_select()
            return self._listed(conn, select.where(select.selected_columns.item_id.in_(ids)))

    def resolve_item(self, item_id: int, disposition: str, worker: str, note: str | None = None) -> None:
        """Close an item with a disposition, recording who and when."""
        if disposition not in DISPOSITIONS:
            raise ValueError(f"disposition must be one of {DISPOSITIONS}")
        params = {
            "item_id": item_id,
            "disposition": disposition,
            "worker": worker,
            "note": note,
            "now": _now(),
        }
        with self._write() as conn:
            if not self._run(conn, "resolve_item", params).rowcount:
                status = self._run(conn, "item_status", {"item_id": item_id}).scalar_one_or_none()
                raise (
                    KeyError(f"no work item {item_id}")
                    if status is None
                    else ValueError(f"work item {item_id} is already resolved")
                )
            self._run(conn, "action_insert", {**params, "action": "resolve"})

    def labels(self) -> pl.DataFrame:
        """Dispositions as match labels, one per record behind a resolved item (`duplicate` left out)."""
        schema = {
            "item_id": pl.Int64(),
            "item_kind": pl.String(),
            "disposition": pl.String(),
            "resolved_at": pl.Datetime("us"),
            "person_id": pl.String(),
            "source": pl.String(),
            "file_name": pl.String(),
            "file_sha256": pl.String(),
            "record_number": pl.Int64(),
            "run_id": pl.String(),
        }
        with self._read() as conn:
            frame = self._frame(self._rows(conn, "labels"), schema)
        return frame.with_columns(is_match=pl.col("disposition").is_in(MATCH_CONFIRMING))

    def audit(self, item_id: int) -> dict[str, Any] | None:
        """The chain behind an item: item → each sighting's match → run (model, snapshot) → file → actions."""
        with self._read() as conn:
            found = self._rows(conn, "audit_item", {"item_id": item_id})
            if not found:
                return None
            evidence = self._rows(conn, "audit_evidence", {"item_id": item_id})
            actions = self._rows(conn, "audit_actions", {"item_id": item_id})
            cases = _family_violence_cases(sa.literal(found[0]["person_id"]))
            protected_now = conn.execute(cases.limit(1)).first() is not None
        item = found[0]
        item["family_violence"] = bool(item["family_violence"]) or protected_now
        protected = protect_addresses(pl.DataFrame([item]).select("family_violence", "new_info"))
        item["new_info"] = json.loads(protected.item(0, "new_info"))
        for sighting in evidence:
            sighting["evidence"] = json.loads(sighting["evidence"]) if sighting["evidence"] else None
        return {"item": item, "sightings": evidence, "actions": actions}


def _family_violence_cases(person_id: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The NCP's cases with a family-violence flag in the current registry snapshot."""
    case = sa.table(
        "registry_ncp_case", sa.column("snapshot_id"), sa.column("person_id"), sa.column("family_violence")
    )
    return sa.select(sa.literal(1)).where(
        case.c.snapshot_id == _current_snapshot_id(),
        case.c.person_id == person_id,
        case.c.family_violence == "Y",
    )


def _current_snapshot_id() -> sa.ScalarSelect[Any]:
    snapshot = sa.table("registry_snapshot", sa.column("snapshot_id"), sa.column("is_current"))
    return sa.select(snapshot.c.snapshot_id).where(snapshot.c.is_current == sa.true()).scalar_subquery()


def _table_of(extract: Any, name: str) -> Any:
    return extract.get(name) if isinstance(extract, Mapping) else getattr(extract, name, None)


def conform_registry(name: str, frame: pl.DataFrame | None) -> pl.DataFrame:
    """A registry table with exactly its columns and types, normalised as the extract reader does
    (`loaders.registry.conform_table`: text trimmed, blank → null, codes upper-cased, numeric SSN/FEIN/ZIP
    zero-padded, dates parsed, an impossible date null)."""
    return _conformed(name, frame)[0]


def _conformed(name: str, frame: pl.DataFrame | None) -> tuple[pl.DataFrame, dict[str, int]]:
    if frame is None:
        return pl.DataFrame(schema=REGISTRY_SCHEMAS[name]), {}
    return conform_table(name, frame)


def _queue_order(items: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, int, int]]]:
    """The queued_item rows (kinds by first appearance, each by key and record number, numbered by `seq`)
    and each kind's `seq` range [first, stop).

    In key order, a chunk's inserts walk the key's unique index from one end to the other, each page read
    and changed once, instead of landing at random places of an index larger than the page cache.
    """
    first_seen = items.select("item_kind", "record_number", "idempotency_key").sort(
        "record_number", "idempotency_key"
    )
    kinds = first_seen.get_column("item_kind").unique(maintain_order=True)
    ordered = items.select(QUEUED_ITEM_FIELDS).sort(
        pl.col("item_kind").replace_strict(kinds, range(kinds.len()), return_dtype=pl.UInt32),
        "idempotency_key",
        "record_number",
    )
    groups = ordered.partition_by("item_kind", maintain_order=True)
    ranges, first = [], 0
    for group in groups:
        ranges.append((str(group.item(0, "item_kind")), first, first + group.height))
        first += group.height
    queued = pl.concat(groups) if groups else ordered
    return queued.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64)), ranges


def _match_rows(run_id: str, matches: pl.DataFrame) -> pl.DataFrame:
    """The run_match table's rows: the named columns plus per-field levels and weights as JSON."""
    evidence = sorted(
        c for c in matches.columns if c.endswith(("_level", "_weight")) and c not in MATCH_COLUMNS
    )
    named = [
        (pl.col(c) if c in matches.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in MATCH_COLUMNS.items()
    ]
    json_evidence = pl.struct(evidence).struct.json_encode() if evidence else pl.lit(None, dtype=pl.String())
    return matches.filter(pl.col("decision").is_in(["auto", "review"])).select(
        pl.lit(run_id).alias("run_id"), *named, json_evidence.alias("evidence")
    )


@contextmanager
def _as_sqlalchemy_error(statement: str) -> Iterator[None]:
    """psycopg errors raised outside SQLAlchemy (COPY) as SQLAlchemy's own (IntegrityError, …)."""
    try:
        yield
    except psycopg.Error as error:
        raise sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


def _serialise_sqlite_writers(engine: sa.Engine) -> None:
    """pysqlite in manual mode: WAL, NORMAL sync, FKs on; writes `BEGIN IMMEDIATE`, reads plain `BEGIN`."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"page_size = {SQLITE_PAGE_SIZE}",  # a new database's; an existing one keeps its own
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            "busy_timeout = 60000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("csmatch_write") else "BEGIN"
        )
