"""Structured logging. Log events carry counts, codes and ids only: never an SSN, name or date of birth."""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr(logging.StreamHandler):
    """Writes to `sys.stderr` as it is at each record, not as it was when configured (a host may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


# Libraries whose DEBUG lines can carry request parameters and payloads (file contents, SQL parameters):
# they never log below WARNING, whatever csmatch's own level is.
CHATTY_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3", "sqlalchemy", "psycopg", "moto")


def configure(level: str = "INFO") -> None:
    """JSON-ish key=value lines on stderr, at the given level (third-party libraries: WARNING at most)."""
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(handlers=[handler], level=level.upper(), force=True)
    for library in CHATTY_LIBRARIES:
        logging.getLogger(library).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
