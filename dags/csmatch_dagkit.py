"""Shared wiring of the csmatch DAGs: settings, assets, retry policy, the source-DAG factory, alerts.

Every task is one call into `pipeline.runner`; polars, the matcher and the database are imported inside the
tasks, so parsing a DAG file costs an Airflow import and nothing else. Stages hand each other only keys and
URIs: records, scores and the prepared registry travel through the landing zone's work area, so any worker
(Celery or Kubernetes pod) can run any mapped chunk.
"""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import (  # type: ignore[attr-defined]  # stub lags
    DAG,
    Asset,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    PokeReturnValue,
    SyncCallback,
    Variable,
    XComArg,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from pipeline.settings import Settings, load_settings

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)

TIMEZONE = os.environ.get("CSMATCH_TIMEZONE", "America/New_York")
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
REGISTRY_DAG_ID = "csmatch_registry"
REGISTRY = Asset(name="csmatch_registry", group="csmatch")  # a registry snapshot was loaded completely
MODEL = Asset(name="csmatch_model", group="csmatch")  # a match model was trained
SETTING_VARIABLES = (
    "db_url",
    "out",
    "landing",
    "model_path",
)  # Airflow Variables csmatch_<name> override env

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "csmatch",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,  # 1, 2, 4 minutes ...
    "max_retry_delay": timedelta(minutes=30),
}
POKE_SECONDS = int(os.environ.get("CSMATCH_POKE_SECONDS", "300"))  # sensors re-check this often


def csmatch_settings() -> Settings:
    """Settings for a running task: Airflow Variables `csmatch_db_url` etc. win over CSMATCH_* env vars."""
    overrides = {name: Variable.get(f"csmatch_{name}", default=None) for name in SETTING_VARIABLES}
    return load_settings(**overrides)


def parse_time_landing() -> str:
    """The landing zone as the DAG processor sees it (env only: no Variable or network call while parsing)."""
    return load_settings().landing_uri


def received_date_for(context: Any) -> date | None:
    """The date a run's files count as received: the `received_date` param, the logical date of a backfill
    run, else None (the runner takes each file's own landing time, the true receipt)."""
    given = context["params"].get("received_date")
    if given:
        return date.fromisoformat(given)
    dag_run = context["dag_run"]
    if dag_run.run_type == "backfill" and dag_run.logical_date is not None:
        return pendulum.instance(dag_run.logical_date).in_timezone(TIMEZONE).date()
    return None


# --- gates -------------------------------------------------------------------------------------------------


@task.sensor(poke_interval=POKE_SECONDS, timeout=6 * 3600, mode="reschedule", inlets=[REGISTRY])
def registry_ready() -> PokeReturnValue:
    """Pass once a registry snapshot was loaded completely and no registry refresh is under way."""
    context = get_current_context()
    events = context["inlet_events"][REGISTRY]
    refreshing = context["ti"].get_dr_count(dag_id=REGISTRY_DAG_ID, states=["queued", "running"])
    latest = events[-1] if len(events) else None
    ready = latest is not None and refreshing == 0
    log.info("registry gate: snapshot event=%s refresh runs under way=%d", latest is not None, refreshing)
    return PokeReturnValue(is_done=ready, xcom_value=latest.extra if ready and latest else None)


@task.sensor(task_id="wait_for_files", poke_interval=POKE_SECONDS, mode="reschedule")
def wait_for_local_files(source: str) -> PokeReturnValue:
    """Pass once the source's landing folder holds at least one new file."""
    from pipeline import runner

    waiting = runner.list_incoming(source, csmatch_settings())
    return PokeReturnValue(is_done=bool(waiting), xcom_value=len(waiting))


def wait_for_files(source: str, timeout: timedelta) -> BaseOperator | XComArg:
    """A deferrable S3 wildcard sensor for an s3:// landing zone, a rescheduling folder sensor otherwise."""
    landing = parse_time_landing()
    if landing.startswith("s3://"):
        from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

        return S3KeySensor(
            task_id="wait_for_files",
            bucket_key=f"{landing.rstrip('/')}/{source}/*",
            wildcard_match=True,
            deferrable=True,
            aws_conn_id=None,  # the default boto3 chain, as the pipeline's own S3 client uses
            poke_interval=POKE_SECONDS,
            timeout=timeout.total_seconds(),
        )
    sensor: XComArg = wait_for_local_files.override(timeout=timeout.total_seconds())(source)
    return sensor


# --- the stages --------------------------------------------------------------------------------------------


@task
def list_files(source: str) -> list[str]:
    """URIs of the new files; skips the rest of the run when there are none."""
    from pipeline import runner

    uris = runner.list_incoming(source, csmatch_settings())
    if not uris:
        raise AirflowSkipException(f"no new {source} files")
    log.info("%d new %s files", len(uris), source)
    return uris


@task
def stage(source: str, uri: str) -> dict[str, Any]:
    """Claim and parse one file into record chunks; rejected files go to rejected/, known ones to archive/."""
    from loaders.errors import FileRejected
    from pipeline import runner

    context = get_current_context()
    settings = csmatch_settings()
    try:
        staged = runner.stage_file(
            source,
            uri,
            settings,
            received_date=received_date_for(context),
            force=bool(context["params"]["force"]),
        )
    except FileRejected as rejected:
        runner.reject_file(uri, rejected)
        log.error("file rejected: %s", rejected.code)
        return {"uri": uri, "status": "rejected", "reason": rejected.code}
    if staged is None:
        _archive(uri)
        log.info("file processed before; archived")
        return {"uri": uri, "status": "skipped"}
    return {**staged, "status": "staged"}


@task
def plan_chunks(staged: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One entry per record chunk of every staged file: the unit the match step fans out over."""
    return [
        {"run_id": s["run_id"], "chunk_key": chunk}
        for s in staged
        if s["status"] == "staged"
        for chunk in s["chunks"]
    ]


@task(map_index_template="{{ chunk_label }}")
def match(chunk: dict[str, str]) -> dict[str, str]:
    """Match one record chunk against the whole registry snapshot; returns the scores chunk's key."""
    from pipeline import runner

    context = get_current_context()
    context["chunk_label"] = f"{chunk['run_id']}/{chunk['chunk_key'].rsplit('/', 1)[-1]}"  # type: ignore[typeddict-unknown-key]
    scores = runner.match_chunk(chunk["run_id"], chunk["chunk_key"], csmatch_settings())
    return {"run_id": chunk["run_id"], "score_key": scores}


@task(trigger_rule="none_failed_min_one_success")
def queue(staged: list[dict[str, Any]], scored: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    """Queue each staged file's matches (a transaction per chunk, idempotent by key) and archive the file."""
    from pipeline import runner

    settings = csmatch_settings()
    summaries = []
    for s in staged:
        if s["status"] != "staged":
            continue
        keys = sorted(x["score_key"] for x in scored or [] if x["run_id"] == s["run_id"])
        summaries.append(runner.queue_run(s["run_id"], keys, settings))
        _archive(s["file_uri"])
    return summaries


@task
def report(summaries: list[dict[str, Any]]) -> list[str]:
    """Write each run's HTML report beside its summary.json and log where it is."""
    from pipeline.report import write_run_report

    out = csmatch_settings().out
    paths = []
    for summary in summaries:
        path = write_run_report(out / "runs" / summary["run_id"])
        log.info("run report for %s: %s", summary["run_id"], path)
        paths.append(str(path))
    return paths


def _archive(uri: str) -> None:
    """Move a handled file to archive/ (already gone: a retry after a move, nothing to do)."""
    from pipeline import runner

    try:
        runner.archive_file(uri)
    except FileNotFoundError:
        log.info("file already archived")


# --- alerts ------------------------------------------------------------------------------------------------


def iwo_window_at_risk(context: dict[str, Any], source: str) -> None:
    """Deadline callback: a run still unfinished this late may let its IWO candidates miss the window."""
    dag_run = context.get("dag_run", {})
    deadline = context.get("deadline", {})
    log.error(
        "IWO window at risk: %s run %s not finished by %s; IWOs are due 2 business days after receipt",
        source,
        dag_run.get("run_id"),
        deadline.get("deadline_time"),
    )


def iwo_deadline(source: str, within: timedelta) -> DeadlineAlert:
    """Alert when a run is not done `within` of being queued (a day leaves one business day for IWOs).

    Queued-at rather than logical date: manual runs have no logical date, and a backfill of an old date
    would otherwise alert the moment it starts.
    """
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=within,
        callback=SyncCallback(iwo_window_at_risk, kwargs={"source": source}),
        name=f"csmatch_{source}_iwo_window",
    )


# --- the factory -------------------------------------------------------------------------------------------


def source_dag(
    source: str,
    *,
    cron: str,
    wait: timedelta,
    doc: str,
    iwo_deadline_within: timedelta | None = None,
) -> DAG:
    """One source's DAG: registry gate → wait for files → stage → match chunks (mapped) → queue → report."""
    with DAG(
        dag_id=f"csmatch_{source}",
        schedule=CronTriggerTimetable(cron, timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        dagrun_timeout=wait + timedelta(hours=12),
        deadline=iwo_deadline(source, iwo_deadline_within) if iwo_deadline_within else None,
        params={
            "force": Param(
                False, type="boolean", description="Re-run files processed before (queue stays idempotent)"
            ),
            "received_date": Param(
                None, type=["null", "string"], format="date", description="Override received date"
            ),
        },
        tags=["csmatch", source],
        doc_md=doc,
    ) as dag:
        files: Any = list_files(source)
        registry_ready() >> wait_for_files(source, wait) >> files
        staged: Any = stage.partial(source=source).expand(uri=files)
        scored: Any = match.expand(chunk=plan_chunks(staged))
        summaries: Any = queue(staged, scored)
        report(summaries)
    return dag


def cron_dag(dag_id: str, *, cron: str, doc: str) -> DAG:
    """A DAG shell for the housekeeping cadences (registry refresh, model training)."""
    return DAG(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["csmatch"],
        doc_md=doc,
    )
