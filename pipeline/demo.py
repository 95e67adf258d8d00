"""`csmatch demo`: the newcomer's first run, from generated data to queued work, with a readable summary."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import matching
from pipeline import runner
from pipeline.database import Database
from pipeline.demo_data import make_demo
from pipeline.settings import Settings
from worklists.export import mask_ssn


def run_demo(
    settings: Settings, *, persons: int, records: int, seed: int, console: Console
) -> dict[str, object]:
    """Generate, load, run one new-hire file (re-run safe: the queue is idempotent); print what was queued."""
    demo_dir = settings.out / "demo"
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        step = progress.add_task(f"Generating {persons:,} NCPs and {records:,} new hires", total=None)
        paths = make_demo(demo_dir, persons=persons, records=records, seed=seed)
        progress.update(step, total=1, completed=1)
        step = progress.add_task("Loading the registry extract", total=None)
        registry = runner.load_registry(str(paths.registry), settings)
        progress.update(step, total=1, completed=1)
        step = progress.add_task("Matching the new-hire file", total=None)

        def advance(_stage: str, done: int, total: int) -> None:
            progress.update(step, total=total, completed=done)

        summary = runner.run_file(
            "new_hire", str(paths.files["new_hire"]), settings, force=True, progress=advance
        )
    _print_summary(console, registry, summary)
    _print_accuracy(console, settings.out / "runs" / summary["run_id"], paths.truth["new_hire"])
    _print_worklist_sample(console, settings)
    console.print(
        f"\nOutputs: [bold]{settings.out / 'runs' / summary['run_id']}[/bold]  ·  worklist: "
        "[bold]csmatch worklist list[/bold]  ·  export: [bold]csmatch worklist export --format xlsx --output "
        "worklist.xlsx[/bold]"
    )
    return summary


def _print_summary(console: Console, registry: dict[str, object], summary: dict[str, object]) -> None:
    table = Table(title="What happened", show_header=False)
    table.add_row("registry NCPs loaded", str(registry.get("ncp")))
    for key in runner.COUNT_KEYS:
        table.add_row(f"records {key}", str(summary[key]))
    queued = summary.get("queued", {})
    for kind, count in queued.items() if isinstance(queued, dict) else []:
        table.add_row(f"queued {kind}", str(count))
    console.print(table)


def _print_accuracy(console: Console, run_dir: Path, truth_path: Path) -> None:
    metrics = matching.evaluate(pl.read_parquet(run_dir / "matches.parquet"), pl.read_parquet(truth_path))
    table = Table(title="Accuracy against the generator's truth")
    for column in ("decisions", "precision", "recall", "F1"):
        table.add_column(column)
    for name, key in (("auto", "auto"), ("auto + review", "auto_or_review")):
        m = metrics[key]
        assert isinstance(m, dict)
        table.add_row(name, f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}")
    console.print(table)


def _print_worklist_sample(console: Console, settings: Settings) -> None:
    items = Database(settings.db_url).list_items(limit=8)
    table = Table(title="First items on the worklist (by due date)")
    for column in ("item", "kind", "case", "NCP", "SSN", "due"):
        table.add_column(column, no_wrap=True)
    for row in items.iter_rows(named=True):
        table.add_row(
            str(row["item_id"]),
            row["item_kind"],
            row["case_id"],
            row["person_id"],
            mask_ssn(row.get("ssn")),
            str(row["due_date"] or ""),
        )
    console.print(table)
