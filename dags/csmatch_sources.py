"""Airflow DAGs, one per incoming source; adding a source is one line (see `csmatch_dagkit.source_dag`).

Cadences follow the files: new hires arrive daily (IWOs are due 2 business days after receipt, so a late run
raises a deadline alert), DMV extracts and UI claims weekly, quarterly wage and FIDM files once a quarter.
"""

from __future__ import annotations

from datetime import timedelta

from csmatch_dagkit import source_dag

new_hire = source_dag(
    "new_hire",
    cron="0 6 * * *",
    wait=timedelta(hours=16),
    iwo_deadline_within=timedelta(hours=24),
    doc="Daily state new-hire (W-4) file → locate hits and IWO candidates.",
)
dmv = source_dag("dmv", cron="0 7 * * 1", wait=timedelta(days=6), doc="Weekly DMV extract → locate hits.")
quarterly_wage = source_dag(
    "quarterly_wage", cron="0 7 1 2,5,8,11 *", wait=timedelta(days=28), doc="Quarterly wage (QW) file."
)
fidm = source_dag(
    "fidm", cron="0 8 1 1,4,7,10 *", wait=timedelta(days=28), doc="Quarterly FIDM match file → levies."
)
ui_claim = source_dag(
    "ui_claim",
    cron="0 7 * * 2",
    wait=timedelta(days=6),
    doc="Weekly unemployment-insurance claims → locate hits.",
)
