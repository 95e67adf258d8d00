"""Typed settings: command-line options win, then environment (CSMATCH_*), then defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where csmatch reads and writes. The embedded default needs no server."""

    model_config = SettingsConfigDict(env_prefix="CSMATCH_", extra="ignore")

    db_url: str = "sqlite:///var/csmatch.db"
    out: Path = Path("var")
    landing: str | None = None  # local folder or s3://bucket/prefix; default <out>/landing
    model_path: Path | None = None  # None: the model that ships with the package
    log_level: str = "INFO"
    chunk_size: int | None = None  # records per match chunk (the Airflow fan-out unit); None: the source's
    # Work-rule thresholds (dollars / months); see worklists.rules.
    levy_min_arrears: float = 500.0
    levy_min_balance: float = 100.0
    suspension_arrears_months: float = 3.0

    @property
    def landing_uri(self) -> str:
        """The landing zone: incoming files per source, archive/, rejected/ and the runs' shared work area."""
        return self.landing or str(self.out / "landing")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None overrides (e.g. CLI options) applied on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)  # type: ignore[arg-type]
