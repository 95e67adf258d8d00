"""evaluate(): precision, recall, per-fault recall and hard negatives against truth."""

from __future__ import annotations

import polars as pl
import pytest

from matching import evaluate


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    truth = pl.DataFrame(
        {
            "file_name": ["f"] * 6,
            "record_number": [2, 3, 4, 5, 6, 7],
            "person_id": ["A", "B", "C", "D", None, None],
            "faults": [["ssn_typo"], [], ["ssn_typo", "nickname"], ["nickname"], [], []],
            "hard_negative": [None, None, None, None, "twin", None],
        }
    )
    matches = pl.DataFrame(
        {
            "file_name": ["f"] * 5,
            "record_number": [2, 3, 4, 6, 7],
            "person_id": ["A", "B", "X", "A", "B"],
            "decision": ["auto", "review", "auto", "review", "auto"],
            "match_weight": [30.0, 5.0, 25.0, 4.0, 20.0],
        }
    )
    return matches, truth


def test_precision_recall() -> None:
    metrics = evaluate(*_frames())
    auto, both = metrics["auto"], metrics["auto_or_review"]
    assert isinstance(auto, dict) and isinstance(both, dict)
    # auto: A right, X wrong (C), B for a non-NCP wrong -> 1 of 3; recall 1 of 4 NCPs
    assert (auto["true_positives"], auto["false_positives"]) == (1, 2)
    assert auto["precision"] == pytest.approx(1 / 3) and auto["recall"] == pytest.approx(0.25)
    assert (both["true_positives"], both["false_positives"], both["recall"]) == (2, 3, 0.5)
    assert both["f1"] == pytest.approx(2 * 0.4 * 0.5 / 0.9)


def test_recall_by_fault_and_hard_negatives() -> None:
    metrics = evaluate(*_frames())
    by_fault = {row["fault"]: row for row in metrics["recall_by_fault"]}  # type: ignore[attr-defined]
    assert by_fault["ssn_typo"]["records"] == 2 and by_fault["ssn_typo"]["auto_recall"] == 0.5
    assert by_fault["nickname"]["auto_or_review_recall"] == 0.0
    assert metrics["hard_negatives"] == [{"kind": "twin", "records": 1, "wrong_auto": 0, "review": 1}]
