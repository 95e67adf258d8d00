"""Worklist on SQLite and PostgreSQL: list, claim (never twice, even concurrently), resolve, labels, audit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from pipeline.database import LISTED_COLUMNS, Database
from tests.worklists import scenario as s
from worklists.export import export_frame

HOSTILE = "O'BRIEN'); DROP TABLE X;--"


def _queued(url: str) -> Database:
    database = Database(url)
    database.create_schema()
    database.replace_registry(s.REGISTRY)
    rules = ("locate_hit", "iwo_candidate")
    s.queue(
        database, "new_hire", rules, s.NEW_HIRE_RECEIVED, "a" * 64, s.NEW_HIRE_MATCHES, s.NEW_HIRE_RECORDS
    )
    s.queue(database, "quarterly_wage", rules, s.WAGE_RECEIVED, "c" * 64, s.WAGE_MATCHES, s.WAGE_RECORDS)
    return database


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = _queued(db_url)
    yield database
    database.dispose()


def test_list_sorts_by_due_date_and_filters(db: Database) -> None:
    items = db.list_items()
    assert items.height == 11
    due = items.get_column("due_date").to_list()
    dated = [d for d in due if d is not None]
    assert dated == sorted(dated) and due[: len(dated)] == dated  # undated items last
    assert set(dated) == {date(2026, 11, 30)}
    cw1 = db.list_items(worker="CW1")
    assert set(cw1.get_column("case_id")) == {"C1", "C5"}
    assert db.list_items(kind="match_review").get_column("person_id").to_list() == ["P5"]
    assert db.list_items(status="claimed").is_empty()
    assert db.list_items(limit=3).height == 3


def test_listed_items_come_back_typed_with_their_filters_bound(db: Database) -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    claimed = db.claim_items("CW2", 1).get_column("item_id").to_list()
    db.resolve_item(claimed[0], "confirmed", "CW2")
    items = db.list_items()
    assert items.schema == pl.Schema(LISTED_COLUMNS)
    resolved = items.filter(pl.col("item_id") == claimed[0]).row(0, named=True)
    assert (
        before <= resolved["claimed_at"] <= resolved["resolved_at"] <= datetime.now(UTC).replace(tzinfo=None)
    )
    assert resolved["created_at"] <= resolved["claimed_at"]
    assert items.get_column("family_violence").equals(
        items.get_column("person_id") == "P2", check_names=False
    )
    assert db.list_items(worker=HOSTILE, status=HOSTILE, kind=HOSTILE).is_empty()  # bound, never spliced
    one = db.list_items(worker="CW2", status="resolved", kind=resolved["item_kind"], limit=5)
    assert one.get_column("item_id").to_list() == claimed


def test_on_sqlite_the_family_violence_probe_takes_the_partial_index_of_flagged_cases(tmp_path: Path) -> None:
    database = _queued(f"sqlite:///{tmp_path / 'csmatch.db'}")  # the registry load left statistics
    compiled = database._item_select().compile(dialect=database.engine.dialect)
    with closing(sqlite3.connect(tmp_path / "csmatch.db")) as raw:
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        plan = " ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {compiled}", params))
    database.dispose()
    assert "USING INDEX registry_ncp_case_family_violence" in plan


def test_claim_takes_the_workers_items_first_then_by_due_date(db: Database) -> None:
    claimed = db.claim_items("CW2", 3)
    assert claimed.height == 3
    assert set(claimed.get_column("caseworker_id")) == {"CW2"}
    assert set(claimed.get_column("status")) == {"claimed"} and set(claimed.get_column("assigned_to")) == {
        "CW2"
    }
    # the items routed to CW2: C2 (locate + IWO) and C6 (two locates); the IWO (due soonest) is among them
    assert "iwo_candidate" in claimed.get_column("item_kind").to_list()
    other = db.claim_items(HOSTILE, 100)
    assert other.height == 8
    assert not set(other.get_column("item_id")) & set(claimed.get_column("item_id"))
    assert db.claim_items("CW9", 5).is_empty()
    assert db.list_items(worker=HOSTILE).height == 8


def test_resolve_records_who_and_when_and_feeds_labels(db: Database) -> None:
    review = db.list_items(kind="match_review").row(0, named=True)
    iwo = db.list_items(kind="iwo_candidate").sort("case_id").row(0, named=True)
    db.claim_items("CW1", 1)
    db.resolve_item(review["item_id"], "wrong-person", "SPECIALIST-1", note=HOSTILE)
    db.resolve_item(iwo["item_id"], "confirmed", "CW1")
    with pytest.raises(ValueError, match="already resolved"):
        db.resolve_item(iwo["item_id"], "duplicate", "CW1")
    with pytest.raises(KeyError):
        db.resolve_item(999_999, "confirmed", "CW1")
    with pytest.raises(ValueError, match="disposition"):
        db.resolve_item(iwo["item_id"], "maybe", "CW1")

    labels = db.labels()
    assert set(labels.select("person_id", "source", "record_number", "is_match").rows()) == {
        ("P5", "new_hire", 6, False), ("P1", "new_hire", 2, True), ("P1", "quarterly_wage", 2, True)
    }  # fmt: skip
    assert set(labels.get_column("file_sha256")) == {"a" * 64, "c" * 64}

    chain = db.audit(review["item_id"])
    assert chain is not None
    assert chain["item"]["status"] == "resolved" and chain["item"]["disposition"] == "wrong-person"
    assert chain["item"]["new_info"]["candidate_person_id"] == "P5"
    sighting = chain["sightings"][0]
    assert (sighting["run_id"], sighting["model_version"], sighting["snapshot_id"]) == (
        "new_hire-aaaaaaaaaaaaaaaa", "test-model-1", "snapshot"
    )  # fmt: skip
    assert (sighting["file_sha256"], sighting["file_name"], sighting["record_number"]) == (
        "a" * 64,
        "new_hire.txt",
        6,
    )
    assert sighting["file_received_at"] == datetime(2026, 11, 25, 6)
    assert sighting["evidence"] == {"last_name_level": "exact", "last_name_weight": 6.5, "ssn_level": "exact",
                                    "ssn_weight": 12.0}  # fmt: skip
    assert sighting["blocking_rules"] == "ssn_exact" and sighting["decision"] == "review"
    actions = chain["actions"]
    assert [(a["action"], a["worker"], a["disposition"], a["note"]) for a in actions] == [
        ("resolve", "SPECIALIST-1", "wrong-person", HOSTILE)
    ]
    assert isinstance(actions[0]["acted_at"], datetime)
    assert db.audit(999_999) is None


def _claim_all(url: str, worker: str) -> list[int]:
    database = Database(url)
    taken: list[int] = []
    try:
        while True:
            batch = database.claim_items(worker, 2)
            if batch.is_empty():
                return taken
            taken.extend(batch.get_column("item_id").to_list())
    finally:
        database.dispose()


def test_concurrent_claimers_never_share_an_item(db: Database) -> None:
    extra = [
        {"record_number": n, "address_line1": f"{n} RIVER RD", "zip": "62799", "employer_fein": f"{n:09d}"}
        for n in range(100, 160)
    ]
    matches = [(n, ("P1", "P3", "P4")[n % 3], "auto") for n in range(100, 160)]
    s.queue(db, "new_hire", ("locate_hit", "iwo_candidate"), s.NEW_HIRE_RECEIVED, "9" * 64, matches, extra)
    total = db.list_items(status="open").height
    assert total > 150
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(_claim_all, [db.url] * 20, [f"W{i}" for i in range(20)]))
    claimed = [item for taken in results for item in taken]
    assert len(claimed) == len(set(claimed)) == total
    assert sum(1 for taken in results if taken) > 1  # the claimers really overlapped
    assert db.list_items(status="open").is_empty()
    per_item = db.list_items().group_by("assigned_to").len()
    assert per_item.get_column("len").sum() == db.list_items().height
    assert pl.Series(claimed).is_unique().all()


def test_a_family_violence_flag_set_after_queueing_withholds_the_address_everywhere(db: Database) -> None:
    before = db.list_items()
    flag = pl.when(pl.col("case_id").is_in(["C5", "C7"])).then(pl.lit("Y")).otherwise("family_violence")
    db.replace_registry({**s.REGISTRY, "ncp_case": s.NCP_CASE.with_columns(family_violence=flag)})
    # the next night's extract flags P3 and P5, whose items were queued unprotected

    after = db.list_items()
    now_protected = pl.col("person_id").is_in(["P3", "P5"])
    kind = pl.col("new_info").str.json_path_match("$.type")
    text = pl.col("new_info").str.json_path_match("$.text")
    assert not before.filter(now_protected)["family_violence"].any()
    assert before.filter(pl.col("person_id") == "P3", kind == "address").select(text).item() == (
        "ADDRESS 44 NEW ST 62706"
    )
    assert after.filter(now_protected)["family_violence"].all()
    assert after.filter(pl.col("person_id") == "P3", kind == "address").select(text).item() == (
        "ADDRESS WITHHELD (FV)"
    )
    review = after.filter(pl.col("person_id") == "P5", kind == "match_review")["new_info"]
    assert review.str.json_path_match("$.record.address").to_list() == ["WITHHELD (FV)"]
    assert after.filter(~now_protected).equals(before.filter(~now_protected))
    exported = export_frame(after).filter(now_protected)
    assert (
        set(exported["family_violence"]) == {"Y"}
        and not exported["new_information"].str.contains("NEW ST").any()
    )
    item_id = after.filter(pl.col("person_id") == "P3", kind == "address").item(0, "item_id")
    audited = db.audit(int(item_id))
    assert audited is not None and audited["item"]["family_violence"] is True
    assert audited["item"]["new_info"]["text"] == "ADDRESS WITHHELD (FV)"
