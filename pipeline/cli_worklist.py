"""`csmatch worklist list|claim|resolve|export` and `csmatch audit ITEM`."""

from __future__ import annotations

import json
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from pipeline.database import DISPOSITIONS, ITEM_STATUSES, Database
from pipeline.settings import load_settings
from worklists.export import mask_ssn, write_export

worklist_app = typer.Typer(help="Specialists' worklists.", no_args_is_help=True)

Disposition = Enum("Disposition", {d.replace("-", "_"): d for d in DISPOSITIONS}, type=str)  # type: ignore[misc]
Status = Enum("Status", {s: s for s in ITEM_STATUSES}, type=str)  # type: ignore[misc]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL [env CSMATCH_DB_URL; default sqlite:///var/csmatch.db]"),
]
WorkerOption = Annotated[
    str | None, typer.Option("--worker", help="Only this worker's items (assigned or routed)")
]


def _database(db: str | None) -> Database:
    database = Database(load_settings(db_url=db).db_url)
    database.create_schema()
    return database


def _print_items(items: pl.DataFrame, title: str) -> None:
    table = Table(title=title)
    for column in (
        "item",
        "due",
        "kind",
        "case",
        "NCP",
        "SSN",
        "caseworker",
        "office",
        "status",
        "new information",
    ):
        table.add_column(column)
    texts = items.get_column("new_info").str.json_path_match("$.text").to_list()
    for row, text in zip(items.iter_rows(named=True), texts, strict=True):
        table.add_row(
            str(row["item_id"]), str(row["due_date"] or ""), row["item_kind"], row["case_id"] or "",
            row["person_id"], mask_ssn(row["ssn"]), row["caseworker_id"] or "", row["office_id"] or "",
            f"{row['status']} ({row['assigned_to']})" if row["assigned_to"] else row["status"], text or "",
        )  # fmt: skip
    Console().print(table)


@worklist_app.command("list")
def list_command(
    worker: WorkerOption = None,
    status: Annotated[Status | None, typer.Option("--status")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="e.g. iwo_candidate, locate_hit")] = None,
    db: DbOption = None,
) -> None:
    """Items by due date."""
    items = _database(db).list_items(worker=worker, status=status.value if status else None, kind=kind)
    _print_items(items, f"Worklist ({items.height} items)")


@worklist_app.command("claim")
def claim_command(
    worker: Annotated[str, typer.Option("--worker", help="Who takes the items")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many items")] = 20,
    db: DbOption = None,
) -> None:
    """Take the next open items (yours first, then by due date)."""
    items = _database(db).claim_items(worker, n)
    _print_items(items, f"Claimed by {worker}: {items.height} items")


@worklist_app.command("resolve")
def resolve_command(
    item: Annotated[int, typer.Argument(help="Item id")],
    disposition: Annotated[Disposition, typer.Option("--disposition")],
    worker: Annotated[str, typer.Option("--worker")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    db: DbOption = None,
) -> None:
    """Close an item with a disposition (recorded with who and when)."""
    try:
        _database(db).resolve_item(item, disposition.value, worker, note)
    except (KeyError, ValueError) as error:
        typer.echo(f"error: {error.args[0]}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"item {item}: {disposition.value} by {worker}")


@worklist_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("--output", help="File to write")],
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
    worker: WorkerOption = None,
    status: Annotated[
        Status | None, typer.Option("--status", help="Only this status [default: open and claimed]")
    ] = None,
    db: DbOption = None,
) -> None:
    """One row per item, by due date; SSNs masked, formula-like cells neutralised."""
    items = _database(db).list_items(worker=worker, status=status.value if status else None)
    if status is None:
        items = items.filter(pl.col("status") != "resolved")
    written = write_export(items, output, fmt.value)
    typer.echo(f"wrote {written} items to {output}")


def audit_command(
    item: Annotated[int, typer.Argument(help="Item id")],
    db: DbOption = None,
) -> None:
    """Show the chain behind a worklist item: match, run, model, snapshot, file, record, actions (JSON)."""
    chain = _database(db).audit(item)
    if chain is None:
        typer.echo(f"error: no work item {item}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(chain, indent=2, default=str))
