"""Every DAG imports cleanly and has the expected id, shape, schedule and retries, and serialises."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"
SOURCE_DAGS = (
    "csmatch_new_hire",
    "csmatch_quarterly_wage",
    "csmatch_dmv",
    "csmatch_fidm",
    "csmatch_ui_claim",
)
ALL_DAGS = (*SOURCE_DAGS, "csmatch_registry", "csmatch_model_training")
HEAVY = ("polars", "matching", "pipeline.runner", "pipeline.database", "matplotlib")
# A source DAG's tasks, each upstream of the next.
SOURCE_TASKS = (
    "registry_ready",
    "wait_for_files",
    "list_files",
    "stage",
    "plan_chunks",
    "match",
    "queue",
    "report",
)


def test_all_dags_import_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(ALL_DAGS)


@pytest.mark.parametrize("dag_id", ALL_DAGS)
def test_every_task_retries_with_exponential_backoff(dagbag: Any, dag_id: str) -> None:
    for t in dagbag.dags[dag_id].tasks:
        assert t.retries >= 2, t.task_id
        assert t.retry_exponential_backoff >= 2, t.task_id
        assert t.max_retry_delay is not None, t.task_id


@pytest.mark.parametrize("dag_id", SOURCE_DAGS)
def test_source_dags_share_one_shape(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert {t.task_id for t in dag.tasks} == set(SOURCE_TASKS)
    assert dag.max_active_runs == 1 and dag.catchup is False
    for upstream, downstream in itertools.pairwise(SOURCE_TASKS):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert dag.get_task("queue").upstream_task_ids == {"stage", "match"}
    assert "csmatch_registry" in {a.name for a in dag.get_task("registry_ready").inlets}


def test_registry_dag_produces_the_asset_the_sources_gate_on(dagbag: Any) -> None:
    outlets = dagbag.dags["csmatch_registry"].get_task("load_registry").outlets
    assert [a.name for a in outlets] == ["csmatch_registry"]


def test_cadences(dagbag: Any) -> None:
    expressions = {dag_id: dagbag.dags[dag_id].timetable.expression for dag_id in ALL_DAGS}
    assert expressions["csmatch_registry"] == "0 1 * * *"  # nightly
    assert expressions["csmatch_new_hire"] == "0 6 * * *"  # daily
    assert expressions["csmatch_dmv"].endswith("* * 1")  # weekly
    assert expressions["csmatch_model_training"].endswith("* * 0")  # weekly
    for quarterly in ("csmatch_quarterly_wage", "csmatch_fidm"):
        assert len(expressions[quarterly].split()[3].split(",")) == 4


def test_new_hire_has_an_iwo_deadline_alert(dagbag: Any) -> None:
    (alert,) = dagbag.dags["csmatch_new_hire"].deadline
    assert alert.interval <= timedelta(days=2)
    assert type(alert.reference).__name__ == "DagRunQueuedAtDeadline"
    assert alert.callback.path.endswith("csmatch_dagkit.iwo_window_at_risk")
    assert alert.callback.kwargs == {"source": "new_hire"}
    assert dagbag.dags["csmatch_dmv"].deadline is None


def test_dags_serialise_for_the_scheduler(dagbag: Any) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    for dag_id in ALL_DAGS:
        serialised = DagSerialization.to_dict(dagbag.dags[dag_id])
        assert serialised["dag"]["dag_id"] == dag_id


PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    "import csmatch_sources, csmatch_registry, csmatch_model_training;"
    "s = csmatch_sources.new_hire.get_task('wait_for_files');"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules];"
    "print(type(s).__name__, getattr(s, 'mode', '-'), getattr(s, 'deferrable', '-'),"
    " getattr(s, 'bucket_key', '-'), getattr(s, 'wildcard_match', '-'), *heavy)"
)


def _parse_dags(tmp_path: Path, landing: str) -> list[str]:
    """Parse the DAG files in a fresh interpreter with CSMATCH_LANDING set; the probe's last line, split."""
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "CSMATCH_LANDING": landing}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS)], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()[-1].split()


def test_sensor_kind_follows_the_landing_and_parsing_stays_light(tmp_path: Path) -> None:
    """Local folder: a rescheduling sensor; S3: a deferrable wildcard S3KeySensor. Parsing imports no
    polars, matcher, runner, database layer or matplotlib."""
    local = _parse_dags(tmp_path, str(tmp_path / "landing"))
    s3 = _parse_dags(tmp_path, "s3://agency-landing/csmatch")
    assert local == ["DecoratedSensorOperator", "reschedule", "-", "-", "-"]
    assert s3 == ["S3KeySensor", "poke", "True", "s3://agency-landing/csmatch/new_hire/*", "True"]


def test_ruff_airflow3_rules_pass_on_dags() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--select", "AIR3", str(DAGS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
