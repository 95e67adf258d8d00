"""Scale-out check: the new-hire DAG under CeleryExecutor, its mapped match chunks spread over two workers.

Starts, on loopback only: Airflow's API server, scheduler and DAG processor (metadata DB: PostgreSQL database
`csmatch_airflow`, recreated), and two Celery workers (broker: Redis 127.0.0.1:6379) with distinct hostnames.
Generates a registry and one new-hire file in a landing folder, runs `csmatch_registry` then
`csmatch_new_hire` (file split into several chunks by CSMATCH_CHUNK_SIZE), and prints which worker ran
each mapped chunk, read from the task instances' `hostname`. Records and scores travel through the landing
zone's work area, never a worker's local disk; the pipeline database is PostgreSQL `csmatch_scaleout`.

    uv run python bench/celery_scaleout.py [--persons 20000] [--records 20000] [--chunk-size 2500]

Everything it starts is stopped (by process group id) when it ends; state stays under bench/out/celery/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "out" / "celery"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AIRFLOW_DB = "csmatch_airflow"
PIPELINE_DB = "csmatch_scaleout"
API_PORT = 18080
WORKERS = ("csmatch-w1", "csmatch-w2")


def worker_hostname() -> str:
    """Airflow `hostname_callable` for this bench: each worker reports its own name (both run on one host)."""
    return os.environ["CSMATCH_WORKER_NAME"]


def _recreate_databases() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in (AIRFLOW_DB, PIPELINE_DB):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def _environment(landing: Path, chunk_size: int) -> dict[str, str]:
    airflow_db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{AIRFLOW_DB}"
    return {
        **os.environ,
        "AIRFLOW_HOME": str(WORK / "airflow_home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "celery_scaleout.worker_hostname",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{API_PORT}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(API_PORT),
        "AIRFLOW__API_AUTH__JWT_SECRET": "csmatch-bench-only-secret",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": airflow_db,  # psycopg 3 is async too (no asyncpg here)
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/7",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg://postgres@127.0.0.1:5432/{AIRFLOW_DB}",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs this bench triggers
        "CSMATCH_POKE_SECONDS": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), str(REPO)]),
        "CSMATCH_LANDING": str(landing),
        "CSMATCH_OUT": str(WORK / "out"),
        "CSMATCH_DB_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{PIPELINE_DB}",
        "CSMATCH_CHUNK_SIZE": str(chunk_size),
        "CSMATCH_WORKER_NAME": "csmatch-control",
    }


class Services:
    """The Airflow processes this bench started; stopped by their own process-group ids."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        log = (WORK / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((name, process))

    def check_alive(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {WORK / (name + '.log')}")

    def stop(self) -> None:
        for _, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for _, process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _airflow(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def _query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{AIRFLOW_DB}") as conn:
        return conn.execute(sql, params).fetchall()


def _wait_for(what: str, check: Any, services: Services, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive()
        value = check()
        if value:
            return value
        time.sleep(2)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _run_dag(env: dict[str, str], services: Services, dag_id: str, run_id: str, timeout: float) -> float:
    """Trigger a run, wait for it to finish; returns its wall time. Fails loudly unless it succeeded."""
    started = time.perf_counter()
    _airflow(env, "dags", "trigger", dag_id, "--run-id", run_id)

    deadlines: set[str] = set()

    def finished() -> str | None:
        rows = _query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", dag_id, run_id)
        # A met deadline is pruned when the run succeeds: note the run's deadlines while it runs.
        deadlines.update(
            f"{name} at {when:%Y-%m-%d %H:%M} UTC"
            for name, when in _query(
                "SELECT a.name, d.deadline_time FROM deadline d JOIN dag_run r ON r.id = d.dagrun_id "
                "JOIN deadline_alert a ON a.id = d.deadline_alert_id WHERE r.dag_id = %s AND r.run_id = %s",
                dag_id,
                run_id,
            )
        )
        return rows[0][0] if rows and rows[0][0] in ("success", "failed") else None

    state = _wait_for(f"{dag_id} run", finished, services, timeout)
    if deadlines:
        print(f"{dag_id} {run_id}: deadline alerts armed while it ran: {', '.join(sorted(deadlines))}")
    if state != "success":
        failed = _query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = %s AND run_id = %s "
            "AND state NOT IN ('success', 'skipped')",
            dag_id,
            run_id,
        )
        raise RuntimeError(
            f"{dag_id} {run_id} ended {state}: {failed}; logs under {env['AIRFLOW_HOME']}/logs"
        )
    return time.perf_counter() - started


def _generate(landing_root: Path, persons: int, records: int) -> Path:
    from pipeline.demo_data import make_demo

    paths = make_demo(
        landing_root.parent / "demo", persons=persons, records=records, seed=29, received_date=date.today()
    )
    landing_root.mkdir(parents=True)
    shutil.copytree(paths.registry, landing_root / "registry")
    (landing_root / "new_hire").mkdir()
    target = landing_root / "new_hire" / paths.files["new_hire"].name
    shutil.copy2(paths.files["new_hire"], target)
    return target


def _report(run_id: str, elapsed: float, records: int, chunk_size: int) -> None:
    rows = _query(
        "SELECT map_index, rendered_map_index, hostname, EXTRACT(EPOCH FROM end_date - start_date) "
        "FROM task_instance WHERE dag_id = 'csmatch_new_hire' AND run_id = %s AND task_id = 'match' "
        "ORDER BY map_index",
        run_id,
    )
    print(
        f"\ncsmatch_new_hire run {run_id}: {records:,} records, chunk size {chunk_size:,}, "
        f"{len(rows)} mapped match chunks, run wall time {elapsed:.1f}s"
    )
    print(f"{'map':>4}  {'chunk':<50} {'worker':<12} {'seconds':>8}")
    for map_index, label, hostname, seconds in rows:
        print(f"{map_index:>4}  {label or '':<50} {hostname or '?':<12} {float(seconds or 0):>8.1f}")
    per_worker = Counter(hostname for _, _, hostname, _ in rows)
    print("chunks per worker:", dict(sorted(per_worker.items())))
    other = _query(
        "SELECT task_id, hostname FROM task_instance WHERE dag_id = 'csmatch_new_hire' AND run_id = %s "
        "AND task_id <> 'match' ORDER BY start_date",
        run_id,
    )
    print("other tasks:", ", ".join(f"{task}@{host}" for task, host in other))


def _queued_items() -> dict[str, int]:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{PIPELINE_DB}") as conn:
        rows = conn.execute(
            "SELECT item_kind, COUNT(*) FROM work_item GROUP BY item_kind ORDER BY 1"
        ).fetchall()
    return {kind: n for kind, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=2_500)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per DAG run")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    landing = WORK / "landing"
    new_file = _generate(landing, args.persons, args.records)
    print(f"generated {args.records:,} new hires against {args.persons:,} NCPs: {new_file.name}")
    _recreate_databases()
    env = _environment(landing, args.chunk_size)
    _airflow(env, "db", "migrate")
    services = Services(env)
    try:
        services.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(API_PORT))
        services.start("scheduler", "scheduler", "--skip-serve-logs")
        services.start("dag-processor", "dag-processor")
        for name in WORKERS:
            services.start(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--concurrency",
                "2",
                "--skip-serve-logs",
                CSMATCH_WORKER_NAME=name,
            )
        _wait_for(
            "DAGs parsed",
            lambda: (
                len(_query("SELECT dag_id FROM dag WHERE dag_id IN ('csmatch_registry', 'csmatch_new_hire')"))
                == 2
            ),
            services,
            180,
        )
        _airflow(env, "dags", "unpause", "csmatch_registry")
        _airflow(env, "dags", "unpause", "csmatch_new_hire")
        stamp = time.strftime("%Y%m%dT%H%M%S")
        registry_seconds = _run_dag(env, services, "csmatch_registry", f"bench_{stamp}", args.timeout)
        print(f"csmatch_registry: snapshot loaded in {registry_seconds:.1f}s")
        run_id = f"bench_{stamp}"
        elapsed = _run_dag(env, services, "csmatch_new_hire", run_id, args.timeout)
        _report(run_id, elapsed, args.records, args.chunk_size)
        print("queued work items:", _queued_items())
    finally:
        services.stop()


if __name__ == "__main__":
    main()
