"""Run Python in a fresh interpreter with the hub's settings and exactly the environment a test gives:
settings are read once per process, so a test of what an environment variable does needs its own."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the test run's own environment may set (CI's PostgreSQL run does) and a test must not inherit.
SERVICE_PREFIXES = ("DATABASE_", "DB_", "REDIS_", "S3_", "CELERY_", "LOG_")


def run_with_settings(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SERVICE_PREFIXES) and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "hub.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
