"""Nightly registry refresh: load the case system's extract, then announce the snapshot as an Asset event.

Source DAGs gate on that asset (`registry_ready`), so matching never runs against a half-loaded registry.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Variable, get_current_context, task
from csmatch_dagkit import REGISTRY, REGISTRY_DAG_ID, cron_dag, csmatch_settings


@task(outlets=[REGISTRY])
def load_registry() -> dict[str, Any]:
    """Replace the registry snapshot in one transaction; the asset event carries its counts."""
    from pipeline import runner

    settings = csmatch_settings()
    extract = (
        Variable.get("csmatch_registry_uri", default=None) or f"{settings.landing_uri.rstrip('/')}/registry"
    )
    counts = runner.load_registry(extract, settings)
    get_current_context()["outlet_events"][REGISTRY].extra = counts
    return counts


with cron_dag(REGISTRY_DAG_ID, cron="0 1 * * *", doc="Nightly registry snapshot refresh.") as registry_dag:
    load_registry()
