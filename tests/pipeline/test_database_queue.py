"""queue_run on SQLite and PostgreSQL: items as the rules imply; reruns and other sources never duplicate."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from matching.normalise import street, zip5
from pipeline.database import Database, QueueReport
from tests.frames import max_record_number
from tests.schema_at import migrate_through
from tests.worklists import scenario as s
from worklists import RunInfo, keys, rules

NEW_HIRE_RULES = ("locate_hit", "iwo_candidate")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.create_schema()
    database.replace_registry(s.REGISTRY)
    yield database
    database.dispose()


def _queue_new_hire(db: Database, sha: str = "a" * 64) -> QueueReport:
    return s.queue(
        db, "new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, sha, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS
    )


def _count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())


def test_new_hire_run_queues_what_the_rules_imply(db: Database) -> None:
    report = _queue_new_hire(db)
    assert report.matches_stored == 5  # auto + review; the `none` row is not a match
    assert report.by_kind == {"locate_hit": 6, "iwo_candidate": 3, "match_review": 1}
    assert (report.new_items, report.corroborated) == (10, 0)
    items = db.list_items()
    assert items.height == 10 and set(items.get_column("status")) == {"open"}
    iwo = items.filter(pl.col("item_kind") == "iwo_candidate").sort("case_id")
    assert iwo.select("case_id", "caseworker_id", "family_violence").rows() == [
        ("C1", "CW1", False), ("C2", "CW2", False), ("C4", "CW3", True)
    ]  # fmt: skip
    assert iwo.get_column("ssn").to_list() == ["100000001", "100000001", "100000002"]
    assert items.get_column("evidence_count").to_list() == [1] * 10


def test_requeueing_the_same_run_changes_nothing(db: Database) -> None:
    first = _queue_new_hire(db)
    tables = ("run_match", "work_item", "work_item_evidence")
    before = {t: _count(db, t) for t in tables}
    again = _queue_new_hire(db)  # not finished: resumes after its last committed chunk, nothing is left
    assert again == first
    assert {t: _count(db, t) for t in tables} == before
    db.finish_run(first.run_id, {})
    forced = _queue_new_hire(db)  # finished: queued again from the start, and every key is known
    assert (forced.matches_stored, forced.new_items, forced.corroborated) == (0, 0, 0)
    assert {t: _count(db, t) for t in tables} == before


def test_the_same_records_in_another_file_only_corroborate(db: Database) -> None:
    _queue_new_hire(db, "a" * 64)
    resent = _queue_new_hire(db, "b" * 64)
    assert (resent.new_items, resent.corroborated, resent.matches_stored) == (0, 10, 5)
    assert db.list_items().get_column("evidence_count").to_list() == [2] * 10


def _database_at(db_url: str, version: int) -> Database:
    """A database as a release at schema `version` left it, holding the scenario's registry."""
    database = Database(db_url)
    migrate_through(database, version)
    database.replace_registry(s.REGISTRY)
    return database


def test_items_queued_with_full_length_keys_are_still_corroborated_after_migration_5(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = _database_at(db_url, 4)
    with monkeypatch.context() as before_5:
        before_5.setattr(keys, "KEY_HEX_CHARS", 64)
        assert _queue_new_hire(database, "a" * 64).new_items == 10
    assert set(database.list_items().get_column("idempotency_key").str.len_chars()) == {64}
    assert database.create_schema() == [5, 6, 7]
    resent = _queue_new_hire(database, "b" * 64)
    assert (resent.new_items, resent.corroborated) == (0, 10)
    items = database.list_items()
    assert set(items.get_column("idempotency_key").str.len_chars()) == {32}
    assert items.get_column("evidence_count").to_list() == [2] * 10
    database.dispose()


def _line1_fact(line1: pl.Expr, line2: pl.Expr, zip_code: pl.Expr) -> pl.Expr:
    """The address fact before migration 7: line 1 + ZIP5."""
    return pl.concat_str([street(line1), zip5(zip_code)], separator="|")


def test_address_items_queued_before_migration_7_are_rekeyed_and_corroborated_after_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = _database_at(db_url, 6)
    records = [
        {"record_number": 2, "address_line1": "20 OAK ST", "address_line2": "APT 9", "zip": "62701"},  # P1
        {"record_number": 3, "address_line1": "20 OAK ST APT 9", "zip": "62701"},  # P1: the same, in line 1
        {"record_number": 4, "address_line1": "3 SEA LN", "zip": "62707"},  # P5: a fact that does not change
        {
            "record_number": 5,
            "address_line1": "9 ELM AVE",
            "address_line2": "UNIT 2",
            "zip": "62705",
        },  # P2 (FV)
    ]
    found = [(2, "P1", "auto"), (3, "P1", "auto"), (4, "P5", "auto"), (5, "P2", "auto")]

    def queue(sha: str) -> QueueReport:
        return s.queue(database, "new_hire", ("locate_hit",), s.NEW_HIRE_RECEIVED, sha, found, records)

    with monkeypatch.context() as before_7:
        before_7.setattr(rules, "address_fact", _line1_fact)
        assert queue("a" * 64).new_items == 6  # P1: two addresses x cases C1, C2; P5: C7; P2: C4
    before = database.list_items().select("item_id", "person_id", "idempotency_key").sort("item_id")
    assert database.create_schema() == [7]
    after = database.list_items().select("item_id", "idempotency_key").sort("item_id")
    changed = before.join(after, on="item_id").filter(
        pl.col("idempotency_key") != pl.col("idempotency_key_right")
    )
    # P1's first address item per case takes the new key; its twin keeps its own (the new key is taken);
    # P5's fact is unchanged and P2's address was withheld, so neither has anything to re-key.
    assert changed.get_column("person_id").to_list() == ["P1", "P1"]
    resent = queue("b" * 64)
    # Only the withheld address, which kept no address to re-key from, is queued once more (still withheld).
    assert (resent.new_items, resent.corroborated) == (1, 5)
    evidence = database.list_items().select("person_id", "evidence_count").sort("person_id", "evidence_count")
    assert evidence.rows() == [("P1", 1), ("P1", 1), ("P1", 3), ("P1", 3), ("P2", 1), ("P2", 1), ("P5", 2)]
    database.dispose()


def test_a_wage_record_confirming_a_new_hire_employer_is_corroboration(db: Database) -> None:
    _queue_new_hire(db)
    wage = s.queue(
        db, "quarterly_wage", NEW_HIRE_RULES, s.WAGE_RECEIVED, "c" * 64, s.WAGE_MATCHES, s.WAGE_RECORDS
    )
    # P1/FEIN 222222222: 2 locate + 2 IWO items exist already; P4/FEIN 888888888 is a new locate hit.
    assert wage.by_kind == {"locate_hit": 1}
    assert (wage.new_items, wage.corroborated) == (1, 4)
    items = db.list_items()
    assert items.height == 11
    p1_employer = items.filter((pl.col("person_id") == "P1") & pl.col("new_info").str.contains("222222222"))
    assert p1_employer.height == 4 and p1_employer.get_column("evidence_count").to_list() == [2] * 4
    assert set(p1_employer.get_column("source")) == {"new_hire"}  # the first sighting's source stays
    chain = db.audit(int(p1_employer.get_column("item_id")[0]))
    assert chain is not None
    assert [e["source"] for e in chain["sightings"]] == ["new_hire", "quarterly_wage"]


def test_fidm_levies_respect_thresholds_and_trust_accounts(db: Database) -> None:
    report = s.queue(db, "fidm", ("locate_hit", "levy_candidate"), s.FIDM_RECEIVED, "d" * 64, s.FIDM_MATCHES,
                     s.FIDM_RECORDS)  # fmt: skip
    assert report.by_kind == {"levy_candidate": 2}  # P1's two open cases with arrears; never the trust
    levies = db.list_items(kind="levy_candidate").sort("case_id")
    assert levies.select("case_id", "person_id").rows() == [("C1", "P1"), ("C2", "P1")]
    assert (
        levies["new_info"].str.contains('"account_number":"ACCT-1"').all()
        and levies["due_date"].is_null().all()
    )


def test_dmv_suspension_candidates(db: Database) -> None:
    rules = ("locate_hit", "license_suspension_candidate")
    report = s.queue(db, "dmv", rules, s.DMV_RECEIVED, "e" * 64, s.DMV_MATCHES, s.DMV_RECORDS)
    assert report.by_kind == {"license_suspension_candidate": 2}
    cases = db.list_items(kind="license_suspension_candidate").get_column("case_id").sort().to_list()
    assert cases == ["C1", "C2"]


def test_a_run_never_started_is_refused(db: Database) -> None:
    info = s.run("new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, "f" * 64)
    matches = s.matches(s.NEW_HIRE_MATCHES[:1], "new_hire", info.file_name)
    with pytest.raises(KeyError, match="no run"):
        db.queue_run(info.run_id, matches, _items_for(db, info, matches))
    assert (_count(db, "run_match"), _count(db, "work_item"), _count(db, "work_item_evidence")) == (0, 0, 0)


def test_a_failing_chunk_keeps_the_chunks_before_it_and_the_retry_completes_the_run(db: Database) -> None:
    info, matches, items = _started_new_hire(db)
    early = [(matches.filter(pl.col("record_number") <= 3), items.filter(pl.col("record_number") <= 3))]
    late = (matches.filter(pl.col("record_number") > 3), items.filter(pl.col("record_number") > 3))
    broken = (late[0], late[1].with_columns(source=pl.lit(None, dtype=pl.String())))  # NOT NULL
    with pytest.raises(sa.exc.IntegrityError):
        db.queue_run_chunks(info.run_id, [*early, broken])
    kept = db.list_items()
    assert kept.height > 0 and max_record_number(kept) <= 3  # chunk 1 committed, chunk 2 rolled back
    assert _count(db, "run_match") == early[0][0].height

    report = db.queue_run_chunks(info.run_id, [*early, late])  # the retry skips chunk 1
    assert (report.matches_stored, report.new_items, report.corroborated) == (5, 10, 0)
    assert report.by_kind == {"locate_hit": 6, "iwo_candidate": 3, "match_review": 1}
    assert db.list_items().height == 10 and _count(db, "run_match") == 5
    assert _count(db, "work_item_evidence") == 10


def _started_new_hire(db: Database) -> tuple[RunInfo, pl.DataFrame, pl.DataFrame]:
    """The new-hire run claimed and started, with its decided matches and work items (not queued)."""
    info = s.run("new_hire", NEW_HIRE_RULES, s.NEW_HIRE_RECEIVED, "a" * 64)
    db.claim_file("new_hire", info.file_name, info.file_sha256, 1000, datetime(2026, 11, 25, 6))
    db.start_run(info.run_id, "new_hire", info.file_sha256, info.file_name, info.model_version, "snapshot")
    matches = s.matches(s.NEW_HIRE_MATCHES, "new_hire", info.file_name).filter(pl.col("decision") != "none")
    return info, matches, _items_for(db, info, matches)


def _in_queue_order(chunk: pl.DataFrame) -> list[str]:
    """A chunk's keys as queued: kinds by first appearance (by record number, then key), each by key."""
    kinds = chunk.sort("record_number", "idempotency_key").get_column("item_kind").unique(maintain_order=True)
    return [k for kind in kinds for k in chunk.filter(pl.col("item_kind") == kind)["idempotency_key"].sort()]


def test_items_queued_in_chunks_get_ids_in_queue_order(db: Database) -> None:
    info, matches, items = _started_new_hire(db)
    # Records 2 and 3, then 4 to 6: in each chunk the kinds interleave by record number.
    chunks = [items.filter(pl.col("record_number") <= 3), items.filter(pl.col("record_number") > 3)]
    report = db.queue_run_chunks(info.run_id, [(matches.head(2), chunks[0]), (matches.tail(3), chunks[1])])
    assert (report.matches_stored, report.new_items, report.corroborated) == (5, 10, 0)
    expected = list(dict.fromkeys(_in_queue_order(chunks[0]) + _in_queue_order(chunks[1])))
    assert db.list_items().sort("item_id").get_column("idempotency_key").to_list() == expected


def test_chunks_out_of_record_order_are_refused(db: Database) -> None:
    info, matches, items = _started_new_hire(db)
    late, early = (items.filter(pl.col("record_number") > 3), items.filter(pl.col("record_number") <= 3))
    with pytest.raises(ValueError, match="record order"):
        db.queue_run_chunks(info.run_id, [(matches.tail(3), late), (matches.head(2), early)])


def test_a_key_seen_twice_in_one_run_is_one_item_with_two_sightings(db: Database) -> None:
    info, matches, items = _started_new_hire(db)
    first = items.row(0, named=True)
    again = items.head(1).with_columns(pl.col("record_number") + 100, pl.col("match_weight") + 1.0)
    report = db.queue_run(info.run_id, matches, pl.concat([again, items]))
    assert (report.new_items, report.corroborated) == (10, 1)
    item = db.list_items().filter(pl.col("idempotency_key") == first["idempotency_key"]).row(0, named=True)
    # The first sighting (lowest record number) made the item; the other one is evidence.
    assert (item["record_number"], item["match_weight"], item["evidence_count"]) == (
        first["record_number"],
        first["match_weight"],
        2,
    )


def test_queueing_leaves_the_sqlite_connection_settings_as_they_were(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    database.create_schema()
    database.replace_registry(s.REGISTRY)
    _queue_new_hire(database)
    pragmas = ("cache_size", "temp_store", "wal_autocheckpoint")
    with database._bulk_connection() as conn:  # a WAL checkpoint per GiB: 65 536 pages of 16 KiB
        assert [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas] == [-262_144, 2, 65_536]
    with database.engine.connect() as conn:  # the pool's only connection: the one that queued
        settings = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    assert settings == [-2000, 0, 1000]
    database.dispose()


def test_a_new_sqlite_database_has_16k_pages_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.db"
    with closing(sqlite3.connect(legacy)) as conn:
        conn.execute("CREATE TABLE kept (x)")
    for path, page_size in ((tmp_path / "new.db", 16_384), (legacy, 4_096)):
        database = Database(f"sqlite:///{path}")
        database.create_schema()
        database.replace_registry(s.REGISTRY)
        assert _queue_new_hire(database).new_items == 10
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == page_size
        database.dispose()


def _items_for(db: Database, info: RunInfo, matches: pl.DataFrame) -> pl.DataFrame:
    from worklists import RulesConfig, build_work_items

    records = s.records(s.NEW_HIRE_RECORDS, "new_hire", info.file_name, s.NEW_HIRE_RECEIVED)
    return build_work_items(matches, records, db.read_registry(), RulesConfig(), info)
