"""Database on SQLite and PostgreSQL: schema and migrations, registry snapshots, manifest, runs, binding."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import sql
from loaders.registry import REGISTRY_SCHEMAS, UNKNOWN_END_DATE, read_extract
from pipeline.database import Database, RegistryLoadError, conform_registry, normalise_url
from tests.schema_at import migrate_through
from tests.worklists.scenario import KNOWN_ADDRESS, KNOWN_EMPLOYER, NCP, NCP_CASE, REGISTRY

HOSTILE = "O'BRIEN'); DROP TABLE X;--"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.create_schema()
    yield database
    database.dispose()


def test_create_schema_is_idempotent_and_records_versions(db: Database) -> None:
    assert db.create_schema() == []
    assert db.schema_versions() == [1, 2, 3, 4, 5, 6, 7]


def test_a_database_at_version_1_gets_only_the_later_migrations(db_url: str) -> None:
    database = Database(db_url)
    migrate_through(database, 1)
    assert database.create_schema() == [2, 3, 4, 5, 6, 7]
    assert database.schema_versions() == [1, 2, 3, 4, 5, 6, 7]
    database.dispose()


def test_migration_4_keeps_every_sighting_and_resolves_its_item(db_url: str) -> None:
    database = Database(db_url)
    migrate_through(database, 3)
    with database.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO file_manifest VALUES ('f1', 'new_hire', 'nh.txt', 10, '2026-01-01 00:00:00', "
            "'processed', NULL, 1, '2026-01-01 00:00:00', '2026-01-01')"))  # fmt: skip
        for run in ("r1", "r2"):
            conn.execute(sa.text(
                "INSERT INTO run (run_id, source, file_sha256, file_name, model_version, snapshot_id, "
                "status, started_at) VALUES (:run, 'new_hire', 'f1', 'nh.txt', 'm', 's', 'finished', "
                "'2026-01-01 00:00:00')"), {"run": run})  # fmt: skip
        for key, number in (("k1", 1), ("k2", 2)):
            conn.execute(sa.text(
                "INSERT INTO work_item (idempotency_key, item_kind, person_id, source, new_info, "
                "family_violence, decision, file_sha256, file_name, record_number, run_id, status, "
                "created_at) VALUES (:key, 'locate_hit', 'P1', 'new_hire', '{}', FALSE, 'auto', 'f1', "
                "'nh.txt', :n, 'r1', 'open', '2026-01-01 00:00:00')"), {"key": key, "n": number})  # fmt: skip
        for key, run, number in (("k1", "r1", 1), ("k2", "r1", 2), ("k1", "r2", 7)):
            conn.execute(sa.text(
                "INSERT INTO work_item_evidence VALUES (:key, :run, :n, 'new_hire', 'f1', 'nh.txt', 3.5, "
                "0.9, 'auto', '2026-01-01 00:00:00')"), {"key": key, "run": run, "n": number})  # fmt: skip
    assert database.create_schema() == [4, 5, 6, 7]
    counts = dict(database.list_items().select("idempotency_key", "evidence_count").iter_rows())
    assert counts == {"k1": 2, "k2": 1}
    item_id = database.list_items().filter(pl.col("idempotency_key") == "k1").item(0, "item_id")
    audit = database.audit(item_id)
    assert audit is not None
    sightings = [(s["run_id"], s["record_number"], s["source"], s["file_name"]) for s in audit["sightings"]]
    assert sightings == [("r1", 1, "new_hire", "nh.txt"), ("r2", 7, "new_hire", "nh.txt")]
    database.dispose()


def test_a_failing_migration_leaves_no_trace(db_url: str) -> None:
    database = Database(db_url)
    with database.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at TIMESTAMP NOT NULL)"))  # fmt: skip
        conn.execute(sa.text("INSERT INTO schema_version VALUES (1, 'schema', '2026-01-01 00:00:00')"))
    # Version 1 is recorded but its tables are absent: migration 2 (indexes on work_item) fails.
    with pytest.raises(sa.exc.DBAPIError):
        database.create_schema()
    assert database.schema_versions() == [1]
    database.dispose()


def test_create_schema_on_a_current_schema_only_reads(db: Database) -> None:
    executed: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: executed.append(args[2]))
    assert db.create_schema() == []
    assert executed and all(s.lstrip().upper().startswith(("SELECT", "BEGIN")) for s in executed)
    assert "BEGIN IMMEDIATE" not in executed  # SQLite: no write lock, so no wait behind a long writer


def test_sqlite_file_is_owner_only_and_parents_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "csmatch.db"
    database = Database(f"sqlite:///{path}")
    database.create_schema()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    database.dispose()


def test_postgresql_urls_use_psycopg() -> None:
    assert normalise_url("postgresql://postgres@h:5432/d") == "postgresql+psycopg://postgres@h:5432/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_registry_round_trips_with_types_and_hostile_text(db: Database) -> None:
    report = db.replace_registry(REGISTRY)
    assert report.rows == {"ncp": 5, "alias": 0, "ncp_case": 7, "known_employer": 2, "known_address": 1}
    assert (report.ncp_added, report.ncp_removed, report.ncp_changed) == (5, 0, 0)
    assert report.previous_snapshot_id is None
    frames = db.read_registry()
    ncp = frames["ncp"].sort("person_id")
    assert ncp.get_column("last_name").to_list()[0] == HOSTILE
    assert ncp.get_column("dob").to_list()[0] == date(1980, 1, 1)
    assert ncp.schema["dob"] == pl.Date()
    cases = frames["ncp_case"].sort("case_id")
    assert cases.get_column("arrears_balance").to_list() == NCP_CASE.get_column("arrears_balance").to_list()
    assert frames["known_employer"].sort("fein").get_column("end_date").to_list() == [None, date(2019, 1, 1)]
    assert frames["known_address"].height == KNOWN_ADDRESS.height
    assert frames["alias"].is_empty() and frames["alias"].columns == [
        "person_id", "first_name", "middle_name", "last_name", "suffix", "ssn"
    ]  # fmt: skip
    assert db.current_snapshot().snapshot_id == report.snapshot_id  # type: ignore[union-attr]


def test_read_registry_for_some_persons(db: Database) -> None:
    db.replace_registry(REGISTRY)
    frames = db.read_registry(tables=("ncp", "ncp_case"), person_ids=["P1", "P4", "NOBODY", HOSTILE])
    assert set(frames) == {"ncp", "ncp_case"}
    assert sorted(frames["ncp"].get_column("person_id")) == ["P1", "P4"]
    assert sorted(frames["ncp_case"].get_column("case_id")) == ["C1", "C2", "C3", "C6"]
    assert db.read_registry(tables=("ncp",), person_ids=[])["ncp"].is_empty()


def test_read_registry_fetches_only_the_columns_asked_for(db: Database) -> None:
    db.replace_registry(REGISTRY)
    columns = {"ncp": ("person_id", "dob"), "known_employer": ("person_id", "fein", "end_date", "iwo_active")}
    frames = db.read_registry(tables=tuple(columns), person_ids=["P1", "P4"], columns=columns)
    assert {name: tuple(frame.columns) for name, frame in frames.items()} == columns
    assert frames["ncp"].schema["dob"] == pl.Date()
    whole = db.read_registry(tables=tuple(columns), person_ids=["P1", "P4"])
    for name, wanted in columns.items():
        assert frames[name].sort(wanted).equals(whole[name].select(wanted).sort(wanted))


def test_second_load_reports_what_changed_and_keeps_one_snapshot(db: Database) -> None:
    first = db.replace_registry(REGISTRY)
    person = pl.col("person_id")
    changed = NCP.filter(person != "P5").with_columns(
        pl.when(person == "P2").then(pl.lit("NEWNAME")).otherwise(pl.col("last_name")).alias("last_name"),
        pl.when(person == "P3").then(None).otherwise(pl.col("address_line1")).alias("address_line1"),
    )
    added = pl.DataFrame({"person_id": ["P6", "P7"], "last_name": ["NEW", "NEWER"]})
    second = db.replace_registry({**REGISTRY, "ncp": pl.concat([changed, added], how="diagonal")})
    assert second.previous_snapshot_id == first.snapshot_id
    assert (second.ncp_added, second.ncp_removed, second.ncp_changed) == (2, 1, 2)
    assert db.read_registry(tables=("ncp",))["ncp"].height == 6
    with db.engine.connect() as conn:
        snapshots = conn.execute(sa.text("SELECT count(DISTINCT snapshot_id) FROM registry_ncp")).scalar_one()
    assert snapshots == 1


def test_a_failing_load_leaves_the_previous_snapshot(db: Database) -> None:
    first = db.replace_registry(REGISTRY)
    duplicate_case = pl.concat([NCP_CASE, NCP_CASE.head(1)])  # case_id C1 twice: the insert fails late
    bigger = pl.concat([NCP, pl.DataFrame({"person_id": ["P9"]})], how="diagonal")
    with pytest.raises(RegistryLoadError, match="previous snapshot is kept"):
        db.replace_registry({**REGISTRY, "ncp": bigger, "ncp_case": duplicate_case})
    assert db.current_snapshot().snapshot_id == first.snapshot_id  # type: ignore[union-attr]
    frames = db.read_registry()
    assert frames["ncp"].height == 5 and frames["ncp_case"].height == 7
    assert frames["known_employer"].height == KNOWN_EMPLOYER.height
    assert len(_rebuilt_keys(db)) == (5 if db.dialect == "sqlite" else 6)  # DROP INDEX rolled back too


def _big_registry(n: int, changed: bool = False) -> dict[str, pl.DataFrame]:
    """n NCPs (more rows than one multi-row INSERT holds) with nulls, hostile text and dates; `changed`: the
    first 10 dropped, every 7th renamed, 5 added, fewer cases, employers without dates."""
    i = pl.int_range(10 if changed else 0, n, eager=True)
    ncp = pl.DataFrame({"i": i}).select(
        person_id=pl.format("P{}", pl.col("i")),
        ssn=pl.when(pl.col("i") % 5 > 0).then((pl.col("i") + 100_000_000).cast(pl.String)),
        first_name=pl.when(pl.col("i") % 3 == 0).then(pl.lit(HOSTILE)).otherwise(pl.lit("ZOË")),
        last_name=pl.when(changed & (pl.col("i") % 7 == 0)).then(pl.lit("NEW")).otherwise(pl.lit("LAST")),
        dob=pl.when(pl.col("i") % 4 > 0).then(pl.date(1970, 1, 1) + pl.duration(days=pl.col("i"))),
        zip=pl.format("6{}", (pl.col("i") % 10_000).cast(pl.String).str.zfill(4)),
    )
    if changed:
        ncp = pl.concat([ncp, pl.DataFrame({"person_id": [f"Q{k}" for k in range(5)]})], how="diagonal")
    case = pl.int_range(0, 2 * n - (50 if changed else 0), eager=True)
    cases = pl.DataFrame({"k": case}).select(
        case_id=pl.format("C{}", pl.col("k")),
        person_id=pl.format("P{}", pl.col("k") % n),
        arrears_balance=pl.when(pl.col("k") % 6 > 0).then(pl.col("k") * 1.25),
        current_support_monthly=(pl.col("k") % 9).cast(pl.Float64),
        family_violence=pl.when(pl.col("k") % 10 == 0).then(pl.lit("Y")),
    )
    employer = ncp.select(
        "person_id",
        fein=pl.lit("222222222"),
        start_date=pl.lit(None if changed else date(2020, 2, 29), dtype=pl.Date()),
    )
    return {"ncp": ncp, "ncp_case": cases, "known_employer": employer}


def _rebuilt_keys(db: Database) -> list[tuple[str, str]]:
    """The registry's indexes (and truncated tables' primary keys) a load drops and builds again."""
    with db.engine.connect() as conn:
        query = sql.query("registry_keys_to_rebuild", db.dialect)[0]
        return [tuple(row) for row in conn.execute(sa.text(query))]


def test_a_bulk_load_round_trips_and_keeps_the_indexes(db: Database) -> None:
    indexes = _rebuilt_keys(db)
    assert len(indexes) == (5 if db.dialect == "sqlite" else 6)
    for changed in (False, True):
        extract = _big_registry(300, changed)
        report = db.replace_registry(extract)
        frames = db.read_registry()
        for name, frame in extract.items():
            expected = conform_registry(name, frame)
            assert frames[name].sort(expected.columns).equals(expected.sort(expected.columns)), name
        assert frames["alias"].is_empty() and frames["known_address"].is_empty()
        assert _rebuilt_keys(db) == indexes
    assert (report.ncp_added, report.ncp_removed, report.ncp_changed) == (5, 10, 41)
    assert report.rows == {"ncp": 295, "alias": 0, "ncp_case": 550, "known_employer": 295, "known_address": 0}


def test_registry_text_is_trimmed_and_blank_is_null_and_dates_parse(db: Database) -> None:
    ncp = pl.DataFrame({"person_id": [" P1 "], "ssn": [""], "dob": ["1990-12-31"], "zip": ["  "]})
    db.replace_registry({"ncp": ncp})
    row = db.read_registry(tables=("ncp",))["ncp"].row(0, named=True)
    assert (row["person_id"], row["ssn"], row["dob"], row["zip"]) == ("P1", None, date(1990, 12, 31), None)


def test_columns_with_one_value_in_every_row_round_trip(db: Database) -> None:
    # On SQLite such a column is bound once per statement; a null among values is not "one value".
    ncp = pl.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(100)],
            "dob": ["1990-12-31"] * 100,
            "zip": [None] * 100,
            "last_name": [None, *["SMITH"] * 99],
            "first_name": [*["ANN"] * 99, None],
        }
    )
    db.replace_registry({"ncp": ncp})
    stored = db.read_registry(tables=("ncp",))["ncp"].sort("person_id")
    expected = conform_registry("ncp", ncp).sort("person_id")
    assert stored.select(ncp.columns).equals(expected.select(ncp.columns))
    assert stored["last_name"].null_count() == 1 and stored["dob"].unique().to_list() == [date(1990, 12, 31)]


def test_manifest_claims_each_file_once_and_retries_failed_ones(db: Database) -> None:
    sha = "f" * 64
    received = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
    claim = db.claim_file("new_hire", HOSTILE, sha, 801, received)
    assert claim is not None and claim.attempt == 1 and claim.file_name == HOSTILE
    assert claim.received_at == datetime(2026, 11, 25, 6, 30)
    assert db.claim_file("new_hire", "other-name.txt", sha, 801, received) is None
    db.mark_file(sha, "failed", "crash")
    assert db.manifest_entry(sha).status == "failed"  # type: ignore[union-attr]
    retry = db.claim_file("new_hire", HOSTILE, sha, 801, received)
    assert retry is not None and retry.attempt == 2
    db.mark_file(sha, "rejected", "trailer_count")
    entry = db.manifest_entry(sha)
    assert entry is not None and (entry.status, entry.reason, entry.attempts) == (
        "rejected",
        "trailer_count",
        2,
    )
    assert db.claim_file("new_hire", HOSTILE, sha, 801, received) is None
    assert db.manifest_entry("0" * 64) is None
    with pytest.raises(ValueError):
        db.mark_file(sha, "claimed")
    with pytest.raises(KeyError):
        db.mark_file("0" * 64, "processed")


def test_runs_start_finish_and_restart(db: Database) -> None:
    sha = "e" * 64
    db.claim_file("dmv", "dmv.txt", sha, 10, datetime(2026, 1, 2, tzinfo=UTC))
    db.start_run("dmv-eeee", "dmv", sha, "dmv.txt", "model-1", "snap-1")
    assert db.get_run("dmv-eeee")["status"] == "running"  # type: ignore[index]
    db.finish_run("dmv-eeee", {"read": 3, "note": HOSTILE})
    run = db.get_run("dmv-eeee")
    assert run is not None and run["status"] == "finished" and run["summary"] == {"read": 3, "note": HOSTILE}
    assert isinstance(run["finished_at"], datetime)
    db.start_run("dmv-eeee", "dmv", sha, "dmv.txt", "model-2", "snap-2")
    run = db.get_run("dmv-eeee")
    assert run is not None and (run["status"], run["model_version"], run["finished_at"]) == (
        "running",
        "model-2",
        None,
    )
    assert db.get_run("nope") is None
    with pytest.raises(KeyError):
        db.finish_run("nope", {})


def test_hostile_values_are_bound_not_executed(db: Database) -> None:
    db.replace_registry({"ncp": pl.DataFrame({"person_id": [HOSTILE], "last_name": [HOSTILE]})})
    assert db.read_registry(person_ids=[HOSTILE])["ncp"].get_column("last_name").to_list() == [HOSTILE]
    assert db.list_items(worker=HOSTILE, kind=HOSTILE).is_empty()
    assert db.schema_versions() == [1, 2, 3, 4, 5, 6, 7]  # every table still there


def test_a_registry_load_conforms_dates_codes_and_digits_and_reports_unreadable_dates(db: Database) -> None:
    ncp = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "ssn": [12345678, None, 123456789],  # an integer column: leading zeros come back
            "dob": ["1981-02-30", "1980-01-15", "0000-00-00"],
            "sex": ["f", " M", None],
            "state": ["il", None, "Wi "],
        }
    )
    cases = pl.DataFrame(
        {
            "case_id": ["C1", "C2"],
            "person_id": ["P1", "P2"],
            "case_status": ["open", " Closed "],
            "order_status": ["active", "none"],
            "family_violence": ["y", " "],
        }
    )
    employer = pl.DataFrame(
        {
            "person_id": ["P1", "P1", "P2"],
            "fein": [61234567, 222222222, None],
            "start_date": ["2019-05-01", "2019-11-21", "2020-02-30"],
            "end_date": ["0000-00-00", None, "2021-06-30"],
            "iwo_active": ["n", "y", None],
        }
    )
    report = db.replace_registry({"ncp": ncp, "ncp_case": cases, "known_employer": employer})
    counts = {"ncp.dob": 2, "known_employer.start_date": 1, "known_employer.end_date": 1}
    assert report.unreadable_dates == counts and report.as_dict()["unreadable_dates"] == counts
    frames = db.read_registry()
    assert frames["ncp"].sort("person_id").select("ssn", "dob", "sex", "state").rows() == [
        ("012345678", None, "F", "IL"),
        (None, date(1980, 1, 15), "M", None),
        ("123456789", None, None, "WI"),
    ]
    assert frames["ncp_case"].sort("case_id").select(
        "case_status", "order_status", "family_violence"
    ).rows() == [("OPEN", "ACTIVE", "Y"), ("CLOSED", "NONE", None)]
    # An unreadable end_date is "ended, date unknown", never null ("current employer").
    assert frames["known_employer"].sort("start_date", nulls_last=True).rows() == [
        ("P1", "061234567", None, date(2019, 5, 1), UNKNOWN_END_DATE, "N"),
        ("P1", "222222222", None, date(2019, 11, 21), None, "Y"),
        ("P2", None, None, None, date(2021, 6, 30), None),
    ]


def test_a_load_report_carries_the_extract_readers_counts(db: Database, tmp_path: Path) -> None:
    ncp = pl.DataFrame({"person_id": ["P1", "P2"], "dob": ["1981-02-30", "1980-01-15"]})
    columns = REGISTRY_SCHEMAS["ncp"]
    ncp.select(
        pl.col(c) if c in ncp.columns else pl.lit(None, dtype=pl.String()).alias(c) for c in columns
    ).write_csv(tmp_path / "ncp.csv")
    extract = read_extract(tmp_path)
    report = db.replace_registry(extract)
    assert extract.unreadable_dates == report.unreadable_dates == {"ncp.dob": 1}  # counted once
    assert db.read_registry(tables=("ncp",))["ncp"].sort("person_id")["dob"].to_list() == [
        None,
        date(1980, 1, 15),
    ]
