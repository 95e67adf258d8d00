"""`csmatch model …` and `csmatch evaluate` (owned by the matching work)."""

from __future__ import annotations

import typer

model_app = typer.Typer(help="Train and inspect the match model.", no_args_is_help=True)


def evaluate_command() -> None:
    """Precision and recall of a run's matches against a truth file."""
    raise typer.Exit(2)
