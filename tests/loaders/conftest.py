"""Fixtures and assertions shared by the loader tests."""

from __future__ import annotations

from datetime import date

import polars as pl

from loaders.canonical import QUARANTINE
from loaders.parsed import ParsedFile

RECEIVED = date(2026, 3, 2)


def assert_reconciled(parsed: ParsedFile, *, first_record: int = 2) -> None:
    """read = parsed + quarantined, and every detail line is accounted for exactly once."""
    assert parsed.read == parsed.records.height + parsed.quarantine.height
    numbers = pl.concat([parsed.records["record_number"], parsed.quarantine["record_number"]]).sort()
    assert numbers.to_list() == list(range(first_record, first_record + parsed.read))
    assert parsed.quarantine.schema == pl.Schema(QUARANTINE)


def reasons(parsed: ParsedFile) -> dict[int, str]:
    """record_number -> reason code of the quarantined records."""
    return dict(zip(parsed.quarantine["record_number"], parsed.quarantine["reason"], strict=True))
