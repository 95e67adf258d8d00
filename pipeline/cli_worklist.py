"""`csmatch worklist …` and `csmatch audit` (owned by the worklists work)."""

from __future__ import annotations

import typer

worklist_app = typer.Typer(help="Specialists' worklists.", no_args_is_help=True)


def audit_command() -> None:
    """Show the chain behind a worklist item."""
    raise typer.Exit(2)
