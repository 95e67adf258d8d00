"""The small pure pieces of the DAG wiring: received date from the run, settings from Variables or env."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pendulum
import pytest

pytestmark = pytest.mark.airflow


def _context(
    run_type: str, logical: pendulum.DateTime | None, received: str | None = None
) -> dict[str, object]:
    return {
        "params": {"received_date": received},
        "dag_run": SimpleNamespace(run_type=run_type, logical_date=logical),
    }


def test_backfill_runs_take_the_logical_date_in_the_agency_timezone() -> None:
    from airflow.sdk.api.datamodels._generated import DagRunType
    from csmatch_dagkit import TIMEZONE, received_date_for

    # 03:30 UTC on Jan 6 is still Jan 5 in New York: the file belongs to Jan 5.
    logical = pendulum.datetime(2026, 1, 6, 3, 30, tz="UTC")
    assert TIMEZONE == "America/New_York"
    assert received_date_for(_context(DagRunType.BACKFILL, logical)) == date(2026, 1, 5)


def test_scheduled_runs_leave_the_received_date_to_the_file() -> None:
    from airflow.sdk.api.datamodels._generated import DagRunType
    from csmatch_dagkit import received_date_for

    logical = pendulum.datetime(2026, 1, 6, 11, 0, tz="UTC")
    assert received_date_for(_context(DagRunType.SCHEDULED, logical)) is None
    assert received_date_for(_context(DagRunType.MANUAL, None)) is None


def test_the_received_date_param_wins() -> None:
    from airflow.sdk.api.datamodels._generated import DagRunType
    from csmatch_dagkit import received_date_for

    logical = pendulum.datetime(2026, 1, 6, 11, 0, tz="UTC")
    assert received_date_for(_context(DagRunType.BACKFILL, logical, "2025-12-31")) == date(2025, 12, 31)
