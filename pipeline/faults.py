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
    written; `during_queue`: the first chunk with items queued and committed, the next one's transaction open
    after its first work-item insert; `after_queue`: every chunk committed, run outputs and manifest not yet
    updated. Unset: does nothing.
    Returns whether `point` is armed (for `arm_queue_fault`), and never returns when it fires.
    """
    armed = os.environ.get(FAULT_INJECT_ENV) == point
    if armed and point != "during_queue":
        os.kill(os.getpid(), signal.SIGKILL)
    return armed


def arm_queue_fault(db: Database) -> None:
    """`during_queue`: fire from the engine at the first work-item insert after a chunk's items committed."""
    inserted = committed = False

    def after_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal inserted
        if statement.startswith("INSERT INTO work_item "):
            if committed:
                os.kill(os.getpid(), signal.SIGKILL)
            inserted = True

    def after_commit(_conn: Any) -> None:
        nonlocal committed
        committed = committed or inserted

    if fault_point("during_queue"):
        sa.event.listen(db.engine, "after_cursor_execute", after_execute)
        sa.event.listen(db.engine, "commit", after_commit)
