"""`dag.test()` end to end: the registry DAG, then the new-hire DAG on a generated file; real SQLite.

Checks what a caseworker would see (queued work items with IWO due dates from the received date), the run
outputs and report, the archived file, the fan-out over chunks, the weekly training DAG on that run, and
that re-running changes nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.airflow

RECEIVED = date(2026, 1, 5)  # a Monday: 2 business days later is Wednesday the 7th
IWO_DUE = "2026-01-07"
CHUNK_SIZE = 500


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A landing zone holding a registry extract and one ~2k-record new-hire file; fresh Airflow metadata."""
    from airflow.utils.db import resetdb

    from pipeline.demo_data import make_demo

    paths = make_demo(tmp_path / "demo", persons=1_500, records=2_000, seed=17, received_date=RECEIVED)
    root = tmp_path / "landing"
    shutil.copytree(paths.registry, root / "registry")
    shutil.copytree(paths.files["new_hire"].parent, root / "new_hire")
    monkeypatch.setenv("CSMATCH_LANDING", str(root))
    monkeypatch.setenv("CSMATCH_DB_URL", f"sqlite:///{tmp_path / 'csmatch.db'}")
    monkeypatch.setenv("CSMATCH_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("CSMATCH_CHUNK_SIZE", str(CHUNK_SIZE))
    resetdb()
    return root


def _work_items(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT item_kind, due_date, run_id, idempotency_key FROM work_item").fetchall()


def _task_states(dag_id: str, run_id: str) -> dict[tuple[str, int], str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id).all()
        return {(ti.task_id, ti.map_index): str(ti.state) for ti in rows}


def _mapped_matches(run_id: str) -> list[tuple[str, str]]:
    """(rendered map index, state) of the new-hire run's mapped match instances, in map order."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(
            dag_id="csmatch_new_hire", run_id=run_id, task_id="match"
        )
        return [(ti.rendered_map_index, str(ti.state)) for ti in sorted(rows, key=lambda ti: ti.map_index)]


def _run(dagbag: Any, dag_id: str, **conf: Any) -> Any:
    run = dagbag.dags[dag_id].test(run_conf=conf or None)
    assert str(run.state) == "success", _task_states(dag_id, run.run_id)
    return run


def test_new_hire_dag_queues_work_once(
    dagbag: Any, landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Airflow 3.3.2's dag.test() round-trips the DAG through serialisation in memory, where deadline alerts
    # stay dicts instead of the alert ids the scheduler stores, and DagRun.update_state then fails looking
    # them up. The scheduler path is unaffected (the Celery bench runs this DAG with its alert); the
    # alert's own wiring is checked in test_dag_integrity.
    monkeypatch.setattr(dagbag.dags["csmatch_new_hire"], "deadline", None)
    _run(dagbag, "csmatch_registry")
    run = _run(dagbag, "csmatch_new_hire", received_date=RECEIVED.isoformat())

    items = _work_items(tmp_path / "csmatch.db")
    kinds = {row["item_kind"] for row in items}
    assert {"iwo_candidate", "locate_hit"} <= kinds
    assert {row["due_date"] for row in items if row["item_kind"] == "iwo_candidate"} == {IWO_DUE}
    (run_id,) = {row["run_id"] for row in items}

    summary = json.loads((tmp_path / "out" / "runs" / run_id / "summary.json").read_text())
    assert summary["read"] == summary["parsed"] + summary["quarantined"] > 1_900
    assert summary["parsed"] == summary["matched_auto"] + summary["matched_review"] + summary["unmatched"]
    assert (tmp_path / "out" / "runs" / run_id / "report.html").stat().st_size > 10_000

    matched = _mapped_matches(run.run_id)  # one mapped match per record chunk, labelled by chunk
    assert len(matched) >= summary["read"] // CHUNK_SIZE >= 3
    assert [label for label, _ in matched] == [
        f"{run_id}/records-{n:04d}.parquet" for n in range(1, len(matched) + 1)
    ]
    assert {state for _, state in matched} == {"success"}

    assert not any((landing / "new_hire").iterdir()), "the processed file stays in the landing folder"
    assert len(list((landing / "archive" / "new_hire").iterdir())) == 1

    # The weekly training DAG retrains on that run and announces the new model version.
    _run(dagbag, "csmatch_model_training")
    (model,) = (tmp_path / "out" / "models").glob("*.json")
    assert json.loads(model.read_text())["version"] != summary["model_version"]

    # The same file again: skipped and archived, then forced; the queue never gains a second copy.
    archived = next((landing / "archive" / "new_hire").iterdir())
    for conf in ({}, {"force": True}):
        shutil.copy2(archived, landing / "new_hire" / archived.name)
        _run(dagbag, "csmatch_new_hire", received_date=RECEIVED.isoformat(), **conf)
        again = _work_items(tmp_path / "csmatch.db")
        assert sorted(r["idempotency_key"] for r in again) == sorted(r["idempotency_key"] for r in items)
        assert not any((landing / "new_hire").iterdir())
