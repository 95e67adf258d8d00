"""The `csmatch` command line."""

from __future__ import annotations

import typer

from pipeline.cli_model import evaluate_command, model_app
from pipeline.cli_worklist import audit_command, worklist_app

app = typer.Typer(help="csmatch: match locate files to noncustodial parents and queue the work.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(worklist_app, name="worklist")
app.command("evaluate")(evaluate_command)
app.command("audit")(audit_command)
