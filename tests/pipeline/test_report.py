"""The HTML run report, on a hand-made run directory whose parquet files carry PII-looking columns."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline.report import REPORT_NAME, write_run_report

SSNS = ["123450001", "123450002", "123450003"]
NAMES = ["ZEBEDIAH", "QUENTINA", "MARGRAVE"]
DOBS = [date(1971, 3, 14), date(1984, 11, 2), date(1990, 6, 30)]


def _summary(**extra: object) -> dict[str, object]:
    return {
        "run_id": "new_hire-0123456789abcdef",
        "source": "new_hire",
        "file_name": "nh_20260105.txt",
        "received_date": "2026-01-05",
        "model_version": "fs-2026.01",
        "read": 7,
        "parsed": 5,
        "quarantined": 2,
        "matched_auto": 2,
        "matched_review": 1,
        "unmatched": 2,
        "queued": {
            "run_id": "new_hire-0123456789abcdef",
            "matches_stored": 3,
            "new_items": 6,
            "corroborated": 1,
            "by_kind": {"iwo_candidate": 2, "locate_hit": 3, "match_review": 1},
        },
        **extra,
    }


def _write_run_dir(run_dir: Path, summary: dict[str, object], *, with_scores: bool) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    pl.DataFrame(
        {
            "record_number": [2, 3, 5],
            "person_id": ["P000101", "P000202", "P000303"],
            "match_weight": [24.5, 18.25, 9.75],
            "match_probability": [0.9999, 0.998, 0.91],
            "decision": ["auto", "auto", "review"],
            "reasons": [f"ssn exact {s}; first name {n}" for s, n in zip(SSNS, NAMES, strict=True)],
            "ssn": SSNS,
            "first_name": NAMES,
            "dob": DOBS,
        }
    ).write_parquet(run_dir / "matches.parquet")
    pl.DataFrame(
        {"record_number": [4, 7], "reason": ["ssn_not_numeric", "ssn_not_numeric"], "detail": ["x", "y"]}
    ).write_parquet(run_dir / "quarantine.parquet")
    if with_scores:
        pl.DataFrame(
            {
                "record_number": [2, 3, 5, 6],
                "match_weight": [24.5, 18.25, 9.75, -3.5],
                "decision": ["auto", "auto", "review", "none"],
                "last_name": [*NAMES, "OSTRANDER"],
            }
        ).write_parquet(run_dir / "scores.parquet")


def test_report_counts_histogram_and_iwo_timeliness(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "new_hire-0123456789abcdef"
    summary = _summary(
        thresholds={"auto": 15.0, "review": 6.0, "margin": 6.0, "target_precision": 0.999},
        iwo_due_dates={"2026-01-06": 1, "2026-01-07": 1},
        queued_at="2026-01-06T23:10:00+00:00",
        timings={"parse": 0.5, "match": 2.25, "queue": 0.1},
    )
    _write_run_dir(run_dir, summary, with_scores=True)

    path = write_run_report(run_dir)

    assert path == run_dir / REPORT_NAME
    page = path.read_text()
    assert page.count("<svg") == 1 and "aria-label='match weight histogram'" in page
    assert sum(int(n) for n in re.findall(r"<title>\w+: (\d+) records", page)) == 4  # every scored record
    assert "<td>ssn_not_numeric</td><td>2</td>" in page
    assert "<td>iwo_candidate</td><td>2</td>" in page and "<td>locate_hit</td><td>3</td>" in page
    assert "<td>work items queued (new)</td><td>6</td>" in page
    assert "<td>already queued, corroborated</td><td>1</td>" in page
    assert "matches_stored" not in page
    assert "<td>2026-01-06</td><td>1</td><td>due today</td>" in page
    assert "<td>2026-01-07</td><td>1</td><td>on time</td>" in page
    assert "<td>none</td><td>1</td>" in page  # the unmatched best candidate from scores.parquet
    assert "P000303" in page  # person ids are fine; the review match is listed
    assert "thresholds: auto ≥ 15, review ≥ 6" in page


@pytest.mark.parametrize("with_scores", [True, False])
def test_report_never_contains_pii(tmp_path: Path, with_scores: bool) -> None:
    run_dir = tmp_path / "run"
    _write_run_dir(run_dir, _summary(), with_scores=with_scores)

    page = write_run_report(run_dir).read_text()

    for value in [
        *SSNS,
        *NAMES,
        "OSTRANDER",
        *(d.isoformat() for d in DOBS),
        *(d.strftime("%Y%m%d") for d in DOBS),
    ]:
        assert value not in page
    assert "thresholds not recorded with this run" in page
    assert "2 IWO candidates queued; due dates not recorded with this run" in page


def test_report_of_a_run_without_matches(tmp_path: Path) -> None:
    run_dir = tmp_path / "empty"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text(
        json.dumps(
            _summary(
                read=0, parsed=0, quarantined=0, matched_auto=0, matched_review=0, unmatched=0, queued={}
            )
        )
    )
    page = write_run_report(run_dir).read_text()
    assert "no scored candidates" in page and "no quarantined records" in page
    assert "<svg" not in page
