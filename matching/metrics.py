"""Accuracy of matches against ground truth: precision, recall, F1 for `auto` and `auto`+`review`."""

from __future__ import annotations

import polars as pl

KEYS = ("file_name", "record_number")


def join_keys(matches: pl.DataFrame, truth: pl.DataFrame) -> list[str]:
    """The record keys both frames have (a truth without `file_name` is keyed by record number alone)."""
    return [k for k in KEYS if k in matches.columns and k in truth.columns]


def labelled(matches: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Every truth record with its match (if any): `person_id` (true), `matched_person_id`, `decision`,
    `match_weight`, `faults`, `hard_negative`, and `correct` (matched to the true person)."""
    keys = join_keys(matches, truth)
    found = matches.select(
        *keys, matched_person_id="person_id", decision="decision", match_weight="match_weight"
    )
    joined = truth.join(found, on=keys, how="left")
    return joined.with_columns(
        decision=pl.col("decision").fill_null("none"),
        correct=(pl.col("matched_person_id") == pl.col("person_id")).fill_null(False),
    )


def truth_from_labels(labels: pl.DataFrame) -> pl.DataFrame:
    """Specialists' dispositions as truth: the matched NCP where the match was judged right, nobody where
    it was the wrong person (`labels`: `file_name`, `record_number`, `person_id`, `is_match`)."""
    return labels.unique(["file_name", "record_number"], keep="last", maintain_order=True).select(
        "file_name",
        "record_number",
        person_id=pl.when(pl.col("is_match")).then(pl.col("person_id")),
    )


def _prf(frame: pl.DataFrame, decisions: tuple[str, ...]) -> dict[str, float | int]:
    taken = frame.filter(pl.col("decision").is_in(decisions))
    tp = int(taken["correct"].sum())
    fp = taken.height - tp
    positives = int(frame["person_id"].is_not_null().sum())
    precision = tp / taken.height if taken.height else 1.0
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp, "false_positives": fp,
            "matched": taken.height, "positives": positives}  # fmt: skip


def evaluate(matches: pl.DataFrame, truth: pl.DataFrame) -> dict[str, object]:
    """Metrics of a match frame against truth (`record_number`, `person_id` null for non-NCPs, optional
    `file_name`, `faults`, `hard_negative`).

    Returns `auto` and `auto_or_review` (precision, recall, f1, counts), `records`, and when truth has
    them `recall_by_fault` (per fault code: records, auto recall, auto+review recall) and
    `hard_negatives` (per kind: records, wrongly `auto`, sent to review).
    """
    frame = labelled(matches, truth)
    metrics: dict[str, object] = {
        "records": frame.height,
        "auto": _prf(frame, ("auto",)),
        "auto_or_review": _prf(frame, ("auto", "review")),
    }
    if "faults" in frame.columns:
        by_fault = (
            frame.filter(pl.col("person_id").is_not_null())
            .explode("faults")
            .drop_nulls("faults")
            .group_by("faults")
            .agg(
                records=pl.len(),
                auto_recall=(pl.col("correct") & (pl.col("decision") == "auto")).mean(),
                auto_or_review_recall=(
                    pl.col("correct") & pl.col("decision").is_in(["auto", "review"])
                ).mean(),
            )
            .sort("faults")
        )
        metrics["recall_by_fault"] = by_fault.rename({"faults": "fault"}).to_dicts()
    if "hard_negative" in frame.columns:
        hard = (
            frame.filter(pl.col("hard_negative").is_not_null())
            .group_by("hard_negative")
            .agg(
                records=pl.len(),
                wrong_auto=(pl.col("decision") == "auto").sum(),
                review=(pl.col("decision") == "review").sum(),
            )
            .sort("hard_negative")
        )
        metrics["hard_negatives"] = hard.rename({"hard_negative": "kind"}).to_dicts()
    return metrics
