"""One run's HTML report: counts per step, quarantine reasons, match weights, queued work, IWO timeliness.

Built from the run directory's `summary.json`, `matches.parquet`, `quarantine.parquet` and (when present)
`scores.parquet`. Only counts, codes, ids and weights appear: never an SSN, a name or a date of birth.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.histogram import svg_histogram

REPORT_NAME = "report.html"
DECISIONS = ("auto", "review", "none")
DECISION_COLOURS = {"auto": "#2e7d32", "review": "#f9a825", "none": "#9e9e9e"}
# Columns of matches.parquet that may appear in the report (ids, weights, codes); everything else stays out.
MATCH_COLUMNS = (
    "record_number",
    "person_id",
    "match_weight",
    "match_probability",
    "decision",
    "blocking_rules",
)
REVIEW_ROWS = 25

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.late{color:#b71c1c;font-weight:bold}.ok{color:#2e7d32}.muted{color:#777}
"""


def write_run_report(run_dir: Path) -> Path:
    """Write `report.html` beside the run's `summary.json` and return its path.

    Reads only what the page shows (weights and decisions, the top review matches, quarantine reasons), so
    memory stays flat in the run's size.
    """
    summary = json.loads((run_dir / "summary.json").read_text())
    matches = _scan_optional(run_dir / "matches.parquet")
    scores = _scan_optional(run_dir / "scores.parquet")
    weights = scores if scores is not None and "match_weight" in _names(scores) else matches
    page = render_run_report(
        summary,
        _top_review(matches),
        _columns(_scan_optional(run_dir / "quarantine.parquet"), ("reason",)),
        _columns(weights, ("match_weight", "decision")),
    )
    path = run_dir / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    path.chmod(0o600)
    return path


def render_run_report(
    summary: dict[str, Any],
    matches: pl.DataFrame | None,
    quarantine: pl.DataFrame | None,
    scores: pl.DataFrame | None = None,
) -> str:
    """The report as one self-contained HTML page (the histogram is inline SVG)."""
    weights = scores if scores is not None and "match_weight" in scores.columns else matches
    title = f"csmatch run {summary.get('run_id', '')}"
    sections = [
        f"<h1>{_e(title)}</h1>",
        _table(["", ""], _run_rows(summary)),
        "<h2>Records in and out per step</h2>",
        _table(["step", "records"], _step_rows(summary)),
        "<h2>Timings</h2>",
        _timings(summary.get("timings")),
        "<h2>Quarantine reasons</h2>",
        _quarantine(quarantine),
        "<h2>Match weights</h2>",
        _histogram(weights, _thresholds(summary)),
        "<h2>Queued work by kind</h2>",
        _table(["kind", "items"], sorted(_queued_by_kind(summary).items())),
        "<h2>IWO candidates: due vs on time</h2>",
        _iwo(
            summary.get("iwo_due_dates"),
            _queued_on(summary),
            _queued_by_kind(summary).get("iwo_candidate", 0),
        ),
        "<h2>Review matches, highest weight first</h2>",
        _review_rows(matches),
    ]
    body = "\n".join(sections)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _scan_optional(path: Path) -> pl.LazyFrame | None:
    return pl.scan_parquet(path) if path.exists() else None


def _names(frame: pl.LazyFrame) -> list[str]:
    return frame.collect_schema().names()


def _columns(frame: pl.LazyFrame | None, wanted: Sequence[str]) -> pl.DataFrame | None:
    """Just the `wanted` columns the file has."""
    return None if frame is None else frame.select([c for c in wanted if c in _names(frame)]).collect()


def _top_review(matches: pl.LazyFrame | None) -> pl.DataFrame | None:
    """The reportable columns of the REVIEW_ROWS highest-weight review matches (ties in file order)."""
    if matches is None:
        return None
    names = _names(matches)
    reported = matches.select([c for c in MATCH_COLUMNS if c in names])
    if "decision" not in names or "match_weight" not in names:
        return reported.head(0).collect()
    return (
        reported.filter(pl.col("decision") == "review")
        .with_row_index("row")
        .sort(["match_weight", "row"], descending=[True, False])
        .head(REVIEW_ROWS)
        .drop("row")
        .collect()
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Sequence[tuple[object, ...]]) -> str:
    if not rows:
        return "<p class='muted'>none</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _run_rows(summary: dict[str, Any]) -> list[tuple[object, ...]]:
    keys = ("source", "file_name", "received_date", "status", "model_version", "snapshot_id", "queued_at")
    return [(key.replace("_", " "), summary[key]) for key in keys if summary.get(key) is not None]


def _step_rows(summary: dict[str, Any]) -> list[tuple[object, ...]]:
    queued = summary.get("queued")
    queued = queued if isinstance(queued, dict) else {}
    steps = [
        ("read (detail records)", summary.get("read")),
        ("quarantined", summary.get("quarantined")),
        ("parsed", summary.get("parsed")),
        ("matched: auto", summary.get("matched_auto")),
        ("matched: review", summary.get("matched_review")),
        ("unmatched", summary.get("unmatched")),
        ("work items queued (new)", sum(_queued_by_kind(summary).values()) if queued else None),
        ("already queued, corroborated", queued.get("corroborated")),
    ]
    return [(step, n) for step, n in steps if n is not None]


def _timings(timings: object) -> str:
    if not isinstance(timings, dict):
        return "<p class='muted'>not recorded</p>"
    return _table(["step", "seconds"], [(step, f"{float(s):.2f}") for step, s in timings.items()])


def _quarantine(quarantine: pl.DataFrame | None) -> str:
    if quarantine is None or quarantine.height == 0:
        return "<p class='muted'>no quarantined records</p>"
    reasons = quarantine.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
    return _table(["reason", "records"], list(reasons.iter_rows()))


def _thresholds(summary: dict[str, Any]) -> dict[str, float]:
    """Decision thresholds recorded with the run (`thresholds`: {"auto": w, "review": w, ...})."""
    given = summary.get("thresholds")
    if not isinstance(given, dict):
        return {}
    return {
        name: float(given[name]) for name in ("auto", "review") if isinstance(given.get(name), int | float)
    }


def _histogram(weights: pl.DataFrame | None, thresholds: dict[str, float]) -> str:
    frame = (
        None
        if weights is None
        else weights.select(
            pl.col("match_weight").cast(pl.Float64), pl.col("decision").fill_null("none")
        ).drop_nulls("match_weight")
    )
    if frame is None or frame.is_empty():
        return "<p class='muted'>no scored candidates</p>"
    chart = svg_histogram(frame, thresholds, DECISIONS, DECISION_COLOURS)
    counts = frame.group_by("decision").len().sort("decision")
    note = (
        "<p>thresholds: " + ", ".join(f"{_e(k)} ≥ {v:g}" for k, v in sorted(thresholds.items())) + "</p>"
        if thresholds
        else "<p class='muted'>thresholds not recorded with this run</p>"
    )
    return f"{chart}{note}" + _table(["decision", "records"], list(counts.iter_rows()))


def _counts(mapping: object) -> dict[str, int]:
    """The integer entries of a {name: count} mapping (other entries are metadata, not counts)."""
    if not isinstance(mapping, dict):
        return {}
    return {str(k): int(v) for k, v in mapping.items() if isinstance(v, int) and not isinstance(v, bool)}


def _queued_by_kind(summary: dict[str, Any]) -> dict[str, int]:
    """Work items queued per kind: `queued.by_kind`, or `queued` itself when it is the {kind: n} map."""
    queued = summary.get("queued")
    if isinstance(queued, dict) and "by_kind" in queued:
        return _counts(queued["by_kind"])
    return _counts(queued)


def _queued_on(summary: dict[str, Any]) -> date:
    """The day the run queued its work (`queued_at`), else today (the report is written right after)."""
    stamp = summary.get("queued_at")
    return datetime.fromisoformat(stamp).date() if isinstance(stamp, str) else date.today()


def _iwo(due_dates: object, queued_on: date, queued: int) -> str:
    """IWO candidates per due date, each marked on time (queued before it) or late/due today."""
    if due_dates is None and queued:
        return f"<p class='muted'>{queued} IWO candidates queued; due dates not recorded with this run</p>"
    counts = _counts(due_dates)
    if not counts:
        return "<p class='muted'>no IWO candidates</p>"
    rows: list[tuple[object, ...]] = []
    totals = {"on time": 0, "due today": 0, "late": 0}
    for due_text, n in sorted(counts.items()):
        due = date.fromisoformat(due_text)
        status = "on time" if due > queued_on else "due today" if due == queued_on else "late"
        totals[status] += n
        rows.append((due_text, n, status))
    summary_rows = [(status, n) for status, n in totals.items()]
    return (
        f"<p>queued on {_e(queued_on.isoformat())}</p>"
        + _table(["due date", "IWO candidates", "status"], rows)
        + _table(["status", "IWO candidates"], summary_rows)
    )


def _review_rows(matches: pl.DataFrame | None) -> str:
    if matches is None or "decision" not in matches.columns:
        return "<p class='muted'>no matches</p>"
    columns = [c for c in MATCH_COLUMNS if c in matches.columns]
    review = matches.filter(pl.col("decision") == "review").sort("match_weight", descending=True)
    rows = review.select(columns).head(REVIEW_ROWS)
    formatted = [
        tuple(f"{v:.2f}" if isinstance(v, float) else ("" if v is None else v) for v in row)
        for row in rows.iter_rows()
    ]
    return _table(columns, formatted)
