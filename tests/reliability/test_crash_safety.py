"""SIGKILL a real `csmatch run` at each fault point, rerun it: the queue is exactly an undisturbed run's.

The kill is real: a child process of the installed `csmatch` script, armed with the runner's test hook
`CSMATCH_FAULT_INJECT=<point>` (`pipeline.faults.fault_point`), dies by SIGKILL with no chance to clean up
(no `finally`, no rollback from Python): only the database's own atomicity and the runner's idempotency
protect the queue. The kills at every point run side by side, each in its own database; then each file is
run again and compared with a run nobody disturbed. On SQLite and on the real PostgreSQL server.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from pipeline.demo_data import DemoPaths, make_demo
from pipeline.faults import FAULT_INJECT_ENV, FAULT_POINTS
from pipeline.runner import run_id_for
from tests.frames import max_record_number
from tests.reliability.clirun import Workspace, sha256_of

RECEIVED = date(2026, 3, 2)
CHUNK = "100"  # 250 records: three chunks, so a kill lands between chunks
ITEM_FIELDS = (
    "idempotency_key", "item_kind", "case_id", "person_id", "caseworker_id", "office_id", "source",
    "new_info", "due_date", "family_violence", "match_weight", "match_probability", "decision",
    "file_sha256", "file_name", "record_number", "run_id", "model_version", "status", "evidence_count",
)  # fmt: skip
COUNTS = ("read", "parsed", "quarantined", "matched_auto", "matched_review", "unmatched")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return make_demo(
        tmp_path_factory.mktemp("crash"), persons=400, records=250, seed=23, received_date=RECEIVED
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A factory of fresh, empty database URLs on the backend under test."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / name / 'csmatch.db'}"
    factory = request.getfixturevalue("_pg_factory")
    return lambda _name: f"postgresql+psycopg://postgres@127.0.0.1:5432/{factory.create()}"


def workspace(new_db: Callable[[str], str], tmp_path: Path, name: str, demo: DemoPaths) -> Workspace:
    ws = Workspace(new_db(name), tmp_path / name / "var")
    assert ws.cli("registry", "load", str(demo.registry)).code == 0
    return ws


def run_args(demo: DemoPaths) -> tuple[str, ...]:
    return ("run", "new-hire", str(demo.files["new_hire"]), "--received-date", RECEIVED.isoformat())


def queue_state(ws: Workspace) -> tuple[pl.DataFrame, dict[str, int]]:
    """The queue (comparable columns, by key) and row counts of the tables a run writes."""
    items = ws.items().select(ITEM_FIELDS).sort("idempotency_key")
    db = ws.db()
    with db.engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    db.dispose()
    return items, counts


TABLES = ("work_item", "work_item_evidence", "run_match", "run", "file_manifest")


def test_a_killed_run_resumes_to_the_undisturbed_result(
    demo: DemoPaths, new_db: Callable[[str], str], tmp_path: Path
) -> None:
    baseline = workspace(new_db, tmp_path, "baseline", demo)
    assert baseline.cli(*run_args(demo), CSMATCH_CHUNK_SIZE=CHUNK).code == 0
    expected_items, expected_counts = queue_state(baseline)
    assert expected_items.height > 0 and expected_counts["work_item_evidence"] > 0
    expected_summary = baseline.db().get_run(run_id_for("new_hire", sha256_of(demo.files["new_hire"])))
    assert expected_summary is not None

    spaces = {point: workspace(new_db, tmp_path, point, demo) for point in FAULT_POINTS}
    children = {
        point: ws.spawn(*run_args(demo), CSMATCH_CHUNK_SIZE=CHUNK, **{FAULT_INJECT_ENV: point})
        for point, ws in spaces.items()
    }
    for point, child in children.items():
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, f"{point}: {stderr}"

    sha256 = sha256_of(demo.files["new_hire"])
    run_id = run_id_for("new_hire", sha256)
    for point, ws in spaces.items():
        entry = ws.db().manifest_entry(sha256)
        assert entry is not None and entry.status == "claimed", point  # never marked processed by a dead run
        assert not (ws.run_dir("new_hire", demo.files["new_hire"]) / "summary.json").exists(), point
        items, _ = queue_state(ws)
        if point == "after_queue":  # every chunk's transaction committed before the kill
            assert items.equals(expected_items), point
        elif point == "during_queue":  # the first chunk's items exactly, none of the open second chunk's
            assert 0 < items.height < expected_items.height, point
            first = expected_items.filter(pl.col("idempotency_key").is_in(items["idempotency_key"].implode()))
            assert items.drop("evidence_count").equals(first.drop("evidence_count")), point
            assert max_record_number(items) < max_record_number(expected_items), point
        else:
            assert items.height == 0, point

        rerun = ws.cli(*run_args(demo), CSMATCH_CHUNK_SIZE=CHUNK)
        assert rerun.code == 0 and "Traceback" not in rerun.output, rerun.output

        items, counts = queue_state(ws)
        assert items.equals(expected_items), f"{point}: the queue differs from the undisturbed run's"
        assert counts == expected_counts, point
        assert items.get_column("idempotency_key").n_unique() == items.height
        entry = ws.db().manifest_entry(sha256)
        assert entry is not None and (entry.status, entry.reason) == ("processed", None), point
        run = ws.db().get_run(run_id)
        assert run is not None and run["status"] == "finished", point
        assert {k: run["summary"][k] for k in COUNTS} == {k: expected_summary["summary"][k] for k in COUNTS}

        again = ws.cli(*run_args(demo))  # and now it is an ordinary processed file
        assert again.code == 0 and again.stdout.startswith("skipped:")
