"""One settings module, read from the environment; production settings pass Django's deploy checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hub.settings as hub_settings
from tests.fresh_python import run_with_settings

ROOT = Path(hub_settings.BASE_DIR)


def run_settings(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly this environment."""
    return run_with_settings(code, env)


PRODUCTION_ENV = {
    "SECRET_KEY": "x7!kq2-" + "a1b2c3d4e5f6g7h8i9j0" * 3,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "hub.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://hub.example.com",
    "HTTPS": "true",
}


def test_deploy_checks_pass_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV, "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked(tmp_path):
    result = run_settings(
        {"VAR_DIR": str(tmp_path)}, "from django.conf import settings; print(settings.DEBUG)"
    )
    assert result.stdout.strip() == "False"


def test_defaults_are_sqlite_local_files_and_a_serverless_broker(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);"
        "print(s.CELERY_BROKER_URL);"
        "print(s.STORAGES['models']['BACKEND']);"
        "print(s.CACHES['default']['BACKEND'])"
    )
    out = run_settings({"VAR_DIR": str(tmp_path)}, code).stdout.split()
    assert out == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.files.storage.FileSystemStorage",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_service_urls_switch_to_postgres_redis_and_s3(tmp_path):
    env = {
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://hub:pw@db.internal:5432/hub",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "S3_BUCKET": "models",
        "S3_ENDPOINT_URL": "http://minio.internal:9000",
    }
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'],"
        " s.DATABASES['default']['CONN_HEALTH_CHECKS']);"
        "print(s.CELERY_BROKER_URL);"
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION']);"
        "print(s.STORAGES['models']['BACKEND'], s.STORAGES['models']['OPTIONS']['endpoint_url'])"
    )
    out = run_settings(env, code).stdout.splitlines()
    assert out == [
        "django.db.backends.postgresql db.internal True",  # a restarted server needs no web restart
        "redis://cache.internal:6379/0",
        # Django's Redis cache, answering "miss" while Redis is down (docs/faults.md#redis-down)
        "hub.cache.ResilientRedisCache redis://cache.internal:6379/0",
        "storages.backends.s3.S3Storage http://minio.internal:9000",
    ]


def test_a_malformed_boolean_is_refused_with_its_name(tmp_path):
    code = "from django.conf import settings; settings.DEBUG"
    result = run_settings({"VAR_DIR": str(tmp_path), "DEBUG": "maybe"}, code)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_a_secret_key_is_generated_once_and_kept_out_of_the_repository(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_settings({"VAR_DIR": str(tmp_path)}, code).stdout.strip()
    second = run_settings({"VAR_DIR": str(tmp_path)}, code).stdout.strip()
    assert len(first) >= 50 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert "var/" in (ROOT / ".gitignore").read_text().split()


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", readme, flags=re.MULTILINE))
    missing = hub_settings.ENV_VARS_READ - documented
    assert not missing, f"README's configuration table lacks {sorted(missing)}"
    unknown = documented - hub_settings.ENV_VARS_READ
    assert not unknown, f"README documents variables settings never read: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["SECRET_KEY", "S3_SECRET_KEY", "EMAIL_HOST_PASSWORD"])
def test_no_secret_has_a_committed_value(name):
    settings_source = (ROOT / "hub" / "settings.py").read_text()
    assert re.search(rf'env\("{name}"\)', settings_source), f"{name} must come from the environment only"
