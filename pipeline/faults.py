"""TEST HOOK for the crash-safety tests: SIGKILL a run at a named point. Unset, nothing happens."""

from __future__ import annotations

import os
import signal
from typing import Any

import sqlalchemy as sa

from pipeline.database import Database

FAULT_INJECT_ENV = "CSMATCH_FAULT_INJECT"
FAULT_POINTS = ("during_parse", "during_match", "during_queue", "after_queue")


def fault_point(point: str) -> bool:
    """TEST HOOK (crash-safety tests only): SIGKILL this process when `CSMATCH_FAULT_INJECT` names `point`.

    `during_parse`: a first chunk staged, the file not yet fully read; `during_match`: a first chunk's scores
    written; `during_queue`: inside the queue transaction, after the first work-item insert (uncommitted);
    `after_queue`: queue committed, run outputs and manifest not yet updated. Unset: does nothing.
    Returns whether `point` is armed (for `arm_queue_fault`), and never returns when it fires.
    """
    armed = os.environ.get(FAULT_INJECT_ENV) == point
    if armed and point != "during_queue":
        os.kill(os.getpid(), signal.SIGKILL)
    return armed


def arm_queue_fault(db: Database) -> None:
    """`during_queue`: fire from the engine, right after a statement that writes work items."""

    def after_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO work_item" in statement:
            os.kill(os.getpid(), signal.SIGKILL)

    if fault_point("during_queue"):
        sa.event.listen(db.engine, "after_cursor_execute", after_execute)
