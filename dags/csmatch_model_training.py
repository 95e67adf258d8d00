"""Weekly model training (EM over a sample of recent blocked pairs); announces the new model as an Asset."""

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
