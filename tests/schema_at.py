"""A database left at an older schema version, as an earlier release of csmatch would have left it."""

from __future__ import annotations

import sqlalchemy as sa

import sql
from pipeline.database import Database


def migrate_through(database: Database, version: int) -> None:
    """Apply the schema and its migrations up to `version` (inclusive), recording each as applied."""
    with database.engine.begin() as conn:
        for migration in sql.migrations(database.dialect):
            if migration.version > version:
                break
            for statement in migration.statements:
                conn.exec_driver_sql(statement)
            conn.execute(
                sa.text("INSERT INTO schema_version VALUES (:v, :n, '2026-01-01 00:00:00')"),
                {"v": migration.version, "n": migration.name},
            )
