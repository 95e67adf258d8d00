"""Audit trail through the CLI, and hostile text (quotes, semicolons, SQL) round-tripping intact.

Names like `O'BRIEN'); DROP TABLE X;--` go registry load → match → queue → export → audit on SQLite and on
the real PostgreSQL server: bound parameters only, so they come back byte for byte and every table survives.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import matching
from pipeline.runner import run_id_for
from tests.corpus.make_corpus import HOSTILE_EMPLOYER, HOSTILE_FIRST, HOSTILE_LAST, HOSTILE_STREET
from tests.reliability.clirun import CORPUS, Workspace, sha256_of

RECEIVED = date(2026, 3, 2)
FILES = {
    "new_hire": CORPUS / "files" / "nh_hostile_names.txt",
    "dmv": CORPUS / "files" / "dmv_hostile_names.psv",
}
HOSTILE_NOTE = "'); DROP TABLE work_item_action;-- \"quoted\" ; O'BRIEN"
HOSTILE_WORKER = "O'BRIEN; --"
TABLES = (
    "registry_ncp",
    "file_manifest",
    "run",
    "run_match",
    "work_item",
    "work_item_evidence",
    "work_item_action",
)


def loaded(ws: Workspace) -> Workspace:
    assert ws.cli("registry", "load", str(CORPUS / "registry")).code == 0
    for source, path in FILES.items():
        result = ws.cli("run", source.replace("_", "-"), str(path), "--received-date", RECEIVED.isoformat())
        assert result.code == 0, result.output
    return ws


@pytest.fixture
def ws(db_url: str, tmp_path: Path) -> Workspace:
    return loaded(Workspace(db_url, tmp_path / "var"))


def test_hostile_names_round_trip_through_the_whole_pipeline(ws: Workspace, tmp_path: Path) -> None:
    ncp = ws.db().read_registry(tables=("ncp",))["ncp"]
    hostile = ncp.filter(pl.col("last_name").is_in(HOSTILE_LAST))
    assert sorted(zip(hostile["first_name"], hostile["last_name"], strict=True)) == sorted(
        zip(HOSTILE_FIRST, HOSTILE_LAST, strict=True)
    )
    hostile_ids = set(hostile.get_column("person_id"))

    for source, path in FILES.items():
        matches = pl.read_parquet(ws.run_dir(source, path) / "matches.parquet")
        assert set(matches.filter(pl.col("decision") == "auto").get_column("person_id")) == hostile_ids, (
            source
        )
    items = ws.items()
    assert set(items.get_column("person_id")) == hostile_ids
    texts = items.get_column("new_info").str.json_path_match("$.text").to_list()
    assert any(HOSTILE_STREET in t for t in texts) and any(HOSTILE_EMPLOYER in t for t in texts)

    export = tmp_path / "worklist.csv"
    assert ws.cli("worklist", "export", "--output", str(export)).code == 0
    exported = pl.read_csv(export, infer_schema=False).get_column("new_information").to_list()
    assert any(HOSTILE_STREET in t for t in exported) and any(HOSTILE_EMPLOYER in t for t in exported)

    item_id = int(items.get_column("item_id")[0])
    resolved = ws.cli(
        "worklist", "resolve", str(item_id), "--disposition", "confirmed", "--worker", HOSTILE_WORKER,
        "--note", HOSTILE_NOTE,
    )  # fmt: skip
    assert resolved.code == 0, resolved.output
    chain = json.loads(ws.cli("audit", str(item_id)).stdout)
    assert (chain["actions"][-1]["worker"], chain["actions"][-1]["note"]) == (HOSTILE_WORKER, HOSTILE_NOTE)

    db = ws.db()
    assert set(TABLES) <= set(sa.inspect(db.engine).get_table_names())
    assert "x" not in {t.lower() for t in sa.inspect(db.engine).get_table_names()}
    assert db.list_items().height == items.height


def test_every_item_traces_back_to_file_record_model_and_run(tmp_path: Path) -> None:
    ws = loaded(Workspace.sqlite(tmp_path))
    items = ws.items()
    assert items.height > 0
    model_version = matching.load_model().version
    runs = {run_id_for(s, sha256_of(p)): (s, sha256_of(p), p.name) for s, p in FILES.items()}
    db = ws.db()
    for item_id in items.get_column("item_id").to_list():
        chain = db.audit(item_id)
        assert chain is not None and chain["sightings"], item_id
        for sighting in chain["sightings"]:
            source, sha256, file_name = runs[sighting["run_id"]]
            assert (sighting["source"], sighting["file_sha256"], sighting["file_name"]) == (
                source,
                sha256,
                file_name,
            )
            assert sighting["model_version"] == model_version and sighting["record_number"] >= 2
            assert sighting["matched_person_id"] == chain["item"]["person_id"] and sighting["evidence"]

    worker_items = ws.cli("worklist", "claim", "--worker", "CW-7", "--n", "2")
    assert worker_items.code == 0
    claimed = ws.items().filter(pl.col("assigned_to") == "CW-7").get_column("item_id").to_list()
    assert len(claimed) == 2
    resolved = ws.cli(
        "worklist", "resolve", str(claimed[0]), "--disposition", "wrong-person", "--worker", "CW-7"
    )
    assert resolved.code == 0, resolved.output

    result = ws.cli("audit", str(claimed[0]))
    assert result.code == 0 and "Traceback" not in result.output
    chain = json.loads(result.stdout)
    sighting = chain["sightings"][0]
    assert sighting["file_sha256"] in {sha for _, sha, _ in runs.values()}
    assert {"record_number", "model_version", "run_id", "snapshot_id", "evidence"} <= set(sighting)
    actions = [(a["action"], a["worker"], a["disposition"]) for a in chain["actions"]]
    assert actions == [("claim", "CW-7", None), ("resolve", "CW-7", "wrong-person")]
    assert all(a["acted_at"] for a in chain["actions"])
    assert chain["item"]["status"] == "resolved" and chain["item"]["disposition"] == "wrong-person"

    missing = ws.cli("audit", "999999")
    assert missing.code == 1 and missing.stderr.strip() == "error: no work item 999999"
