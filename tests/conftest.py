"""Shared pytest wiring: fixtures for the real PostgreSQL server and moto's S3 server live in plugins."""

pytest_plugins = ["tests.fixtures_pg", "tests.fixtures_s3"]
