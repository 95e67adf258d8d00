"""The `csmatch` command line."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from loaders.errors import FileRejected, RegistryRejected
from loaders.sources import SOURCES
from pipeline import log as logging_setup
from pipeline import runner
from pipeline.cli_model import evaluate_command, model_app
from pipeline.cli_worklist import audit_command, worklist_app
from pipeline.settings import Settings, load_settings

# Tracebacks never show local variables: they would hold records (SSNs, names, dates of birth).
app = typer.Typer(
    help="csmatch: match locate files to noncustodial parents and queue the work.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
registry_app = typer.Typer(help="The registry extract from the case system.", no_args_is_help=True)
run_app = typer.Typer(help="Run one source file: claim, parse, match, queue.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(run_app, name="run")
app.add_typer(model_app, name="model")
app.add_typer(worklist_app, name="worklist")
app.command("evaluate")(evaluate_command)
app.command("audit")(audit_command)

console = Console()
DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL [env CSMATCH_DB_URL; sqlite:///var/csmatch.db]")
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output folder [env CSMATCH_OUT; var/]")]

EXIT_REJECTED = 2
EXIT_NO_REGISTRY = 3
EXIT_NO_FILE = 4


def _exit_rejected(code: str, message: str) -> NoReturn:
    """`rejected: <code>: <message>` on one line (never wrapped), then exit with EXIT_REJECTED."""
    console.print(f"[red]rejected[/red]: {code}: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_REJECTED)


def _exit_error(error: Exception, exit_code: int) -> NoReturn:
    """`error: <message>` on one line (never wrapped), then exit with `exit_code`."""
    console.print(f"[red]error[/red]: {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(exit_code) from None


def _settings(db: str | None, out: Path | None, **more: Any) -> Settings:
    settings = load_settings(db_url=db, out=out, **more)
    logging_setup.configure(settings.log_level)
    return settings


@registry_app.command("load")
def registry_load(
    directory: Annotated[
        str, typer.Argument(help="Folder (or s3:// prefix) holding ncp.csv|parquet and friends")
    ],
    db: DbOption = None,
    out: OutOption = None,
) -> None:
    """Load a registry extract, replacing the previous snapshot in one transaction."""
    settings = _settings(db, out)
    try:
        report = runner.load_registry(directory, settings)
    except RegistryRejected as rejected:  # the previous snapshot stays in place
        _exit_rejected(rejected.code, rejected.message)
    _print_counts("Registry snapshot loaded", report)


def _print_counts(title: str, counts: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False)
    for key, value in counts.items():
        table.add_row(key, str(value))
    console.print(table)


def _run_source(source: str) -> None:
    """Register `csmatch run <source> PATH` for one registered source."""
    spec = SOURCES[source]

    def command(
        path: Annotated[str, typer.Argument(help="The file: a local path or s3://bucket/key")],
        db: DbOption = None,
        out: OutOption = None,
        received_date: Annotated[
            datetime | None,
            typer.Option(formats=["%Y-%m-%d"], help="Date the file was received (default: file time)"),
        ] = None,
        force: Annotated[
            bool, typer.Option(help="Re-run a file processed before (queue stays idempotent)")
        ] = False,
    ) -> None:
        settings = _settings(db, out)
        received = received_date.date() if received_date else None
        _run_and_report(spec.name, path, settings, received, force)

    command.__doc__ = f"Claim, parse, validate, match and queue one {spec.name} file."
    run_app.command(spec.cli_name)(command)


def _run_and_report(
    source: str, path: str, settings: Settings, received: date | None, force: bool
) -> dict[str, Any]:
    try:
        summary = runner.run_file(source, path, settings, received_date=received, force=force)
    except FileRejected as rejected:
        _exit_rejected(rejected.code, rejected.message)
    except runner.AlreadyProcessed as skipped:
        console.print(f"skipped: {skipped}", highlight=False, soft_wrap=True)
        return {}
    except runner.NoRegistry as missing:
        _exit_error(missing, EXIT_NO_REGISTRY)
    except runner.NoSuchFile as missing:
        _exit_error(missing, EXIT_NO_FILE)
    _print_run(summary, settings)
    return summary


def _print_run(summary: dict[str, Any], settings: Settings) -> None:
    counts = {k: summary[k] for k in runner.COUNT_KEYS}
    counts.update({f"queued {kind}": n for kind, n in summary.get("queued", {}).items()})
    counts["run"] = summary["run_id"]
    counts["outputs"] = str(settings.out / "runs" / summary["run_id"])
    _print_counts(f"{summary['source']} · {summary['file_name']}", counts)


for _source in SOURCES:
    _run_source(_source)


@app.command()
def ingest(
    landing: Annotated[
        str | None, typer.Option(help="Landing zone: folder or s3://bucket/prefix [env CSMATCH_LANDING]")
    ] = None,
    db: DbOption = None,
    out: OutOption = None,
) -> None:
    """Process everything new in the landing zone, source by source; archive or reject each file."""
    settings = _settings(db, out, landing=landing)
    results = runner.ingest(settings)
    table = Table(title=f"Ingested from {settings.landing_uri}")
    for column in ("source", "file", "result", "read", "auto", "review", "quarantined"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r["source"],
            r["file_name"],
            r["status"],
            *(str(r.get(k, "")) for k in ("read", "matched_auto", "matched_review", "quarantined")),
        )
    console.print(table)
    if any(r["status"] == "rejected" for r in results):
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="The run id printed by `csmatch run`")],
    db: DbOption = None,
    out: OutOption = None,
) -> None:
    """Write (or rewrite) a run's HTML report beside its summary.json and print its path (a summary.json
    gone from the run folder is restored from the database first)."""
    settings = _settings(db, out)
    try:
        console.print(str(runner.report_run(run_id, settings)))
    except runner.NoSuchFile as missing:
        _exit_error(missing, EXIT_NO_FILE)


@app.command()
def demo(
    persons: Annotated[int, typer.Option(help="NCPs in the generated registry")] = 20_000,
    records: Annotated[int, typer.Option(help="Records in the generated new-hire file")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    db: DbOption = None,
    out: OutOption = None,
) -> None:
    """Generate demo data, load the registry, run a new-hire file and show what was queued."""
    from pipeline.demo import run_demo

    quiet = None if "CSMATCH_LOG_LEVEL" in os.environ else "WARNING"  # the tables say it all; logs on request
    settings = _settings(db, out, log_level=quiet)
    run_demo(settings, persons=persons, records=records, seed=seed, console=console)
