"""Airflow DAG: weekly model training (EM on the latest new-hire run); the new model is an Asset event.

The model is written under `<out>/models/`, not promoted: a person switches to it after evaluating it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import get_current_context, task
from csmatch_dagkit import MODEL, cron_dag, csmatch_settings


@task(outlets=[MODEL])
def train_model() -> dict[str, Any]:
    """Train and save a new model version; the asset event carries its version and fit figures."""
    from pipeline import runner

    result = runner.train_model(csmatch_settings())
    get_current_context()["outlet_events"][MODEL].extra = result
    return result


with cron_dag("csmatch_model_training", cron="0 3 * * 0", doc="Weekly match-model training.") as training_dag:
    train_model()
