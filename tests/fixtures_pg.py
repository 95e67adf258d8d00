"""Pytest plugin: fresh PostgreSQL databases on the real server (127.0.0.1:5432, user postgres, trust auth).

Each fixture creates its own database and drops it afterwards. When the server is unreachable the fixture
fails the test loudly: PostgreSQL tests never skip.

- `pg_admin_dsn` (session): the server's maintenance DSN, checked once.
- `pg_session_url` (session) / `pg_url` (function): SQLAlchemy URL of a fresh, empty database.
- `db_url` (function, parametrised `sqlite` / `postgresql`): one test body run against both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_HOST = os.environ.get("CSMATCH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CSMATCH_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CSMATCH_TEST_PG_USER", "postgres")


def _dsn(dbname: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname} connect_timeout=5"


def _url(dbname: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    dsn = _dsn("postgres")
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER}: {error}", pytrace=False
        )
    return dsn


@pytest.fixture(scope="session")
def _pg_factory(pg_admin_dsn: str) -> Iterator[_Factory]:
    factory = _Factory(pg_admin_dsn)
    yield factory
    factory.drop_all()


class _Factory:
    """Creates uniquely named databases and drops every one it created."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.created: list[str] = []

    def create(self) -> str:
        name = f"csmatch_test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self.drop(name)


@pytest.fixture(scope="session")
def pg_session_url(_pg_factory: _Factory) -> Iterator[str]:
    name = _pg_factory.create()
    yield _url(name)
    _pg_factory.drop(name)


@pytest.fixture
def pg_url(_pg_factory: _Factory) -> Iterator[str]:
    name = _pg_factory.create()
    yield _url(name)
    _pg_factory.drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'csmatch.db'}"
    return str(request.getfixturevalue("pg_url"))
