"""Drive the real `csmatch` CLI: in-process (typer's CliRunner) or as a subprocess of the installed script."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.database import Database
from pipeline.runner import run_id_for

CORPUS = Path(__file__).parents[1] / "corpus"
CSMATCH = Path(sys.executable).parent / "csmatch"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Workspace:
    """A database URL and an output folder, handed to the CLI through its environment."""

    db_url: str
    out: Path

    @classmethod
    def sqlite(cls, root: Path) -> Workspace:
        return cls(f"sqlite:///{root / 'csmatch.db'}", root / "var")

    def env(self, **more: str) -> dict[str, str]:
        return {"CSMATCH_DB_URL": self.db_url, "CSMATCH_OUT": str(self.out), **more}

    def cli(self, *args: str, **env: str) -> Result:
        """Run in this process (CliRunner); stdout and stderr apart."""
        result = CliRunner().invoke(app, list(args), env=self.env(**env))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """Start `csmatch ARGS` as a child process (the installed console script)."""
        full_env = {**os.environ, "COLUMNS": "200", **self.env(**env)}
        return subprocess.Popen(
            [str(CSMATCH), *args], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def subprocess(self, *args: str, **env: str) -> Result:
        child = self.spawn(*args, **env)
        stdout, stderr = child.communicate(timeout=120)
        return Result(child.returncode, stdout, stderr)

    def db(self) -> Database:
        return Database(self.db_url)

    def items(self) -> pl.DataFrame:
        db = self.db()
        try:
            return db.list_items()
        finally:
            db.dispose()

    def run_dir(self, source: str, path: Path) -> Path:
        return self.out / "runs" / run_id_for(source, sha256_of(path))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
