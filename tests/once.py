"""Tests that gain nothing from CI's second run (PostgreSQL, Redis, S3): they start their own hub on
SQLite, or check rules that don't depend on the database. `.ci/run` sets DATABASE_URL for that run, so
these run once, in the first (embedded defaults) run, and keep CI's time down."""

import os

import pytest

in_the_sqlite_run_only = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the same on every database: CI runs it once, in the embedded-defaults run",
)
