"""The database connections the hub holds are bounded by configuration (issue 17;
docs/scaling-database.md): with PostgreSQL each process borrows from a pool of at most DB_POOL_SIZE
connections, so a gunicorn with W workers holds at most W x DB_POOL_SIZE, however many clients hammer
it and however many threads each worker runs."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection

from tests.fresh_python import run_with_settings

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
APP = "hub-bound-test"  # application_name of the gunicorn's connections, to count them apart

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="connection pooling is PostgreSQL's (DATABASE_URL)"
)


def settings_of(env: dict[str, str], code: str) -> str:
    result = run_with_settings(
        "import django; django.setup(); from django.conf import settings as s;" + code, env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgresql_gets_a_pool_of_db_pool_size_connections_and_zero_turns_it_off(tmp_path):
    url = {"VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://hub@db.example.com:5432/hub"}
    # CONN_HEALTH_CHECKS: Django then has the pool check a connection before lending it (a restart).
    code = "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['OPTIONS'].get('pool'), d['CONN_HEALTH_CHECKS'])"
    assert settings_of({**url, "DB_POOL_SIZE": "5"}, code) == (
        "0 {'min_size': 1, 'max_size': 5, 'timeout': 10, 'max_idle': 300} True"
    )
    assert settings_of({**url, "DB_POOL_SIZE": "0", "DB_CONN_MAX_AGE": "30"}, code) == "30 None True"
    assert settings_of({"VAR_DIR": str(tmp_path)}, "print('pool' in s.DATABASES['default']['OPTIONS'])") == (
        "False"  # SQLite: one file, no pool
    )


def open_connections(dbname: str) -> int:
    with psycopg.connect(dbname=dbname, user="postgres", host="127.0.0.1", autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [dbname, APP],
        ).fetchone()
    return row[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_hammered_gunicorn_never_holds_more_than_workers_times_pool_size_connections(tmp_path):
    workers, threads, pool = 2, 6, 3  # 12 threads, at most 6 connections
    settings = connection.settings_dict
    dbname = settings["NAME"]
    query = urlencode({"application_name": APP})
    port = 20000 + os.getpid() % 20000
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_"))},
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{dbname}?{query}",
        "DB_POOL_SIZE": str(pool),
        "VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
    }
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", "hub/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "hub.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, "gunicorn exited"
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)

        # Pages that each run several queries; the last one answers 404 after a lookup.
        paths = ["/", "/models/", "/api/hub/models?limit=24", "/search/?q=watercolor", "/models/999999"]
        statuses: Counter = Counter()
        peak = [0]
        stop = threading.Event()
        lock = threading.Lock()

        def client(n: int):
            i = n
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(base + paths[i % len(paths)], timeout=30) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError as error:
                    status = type(error).__name__
                with lock:
                    statuses[status] += 1
                i += 1

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], open_connections(dbname))
                time.sleep(0.05)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(24)]
        sampler = threading.Thread(target=sample)
        for thread in [*clients, sampler]:
            thread.start()
        time.sleep(6)
        stop.set()
        for thread in [*clients, sampler]:
            thread.join(timeout=60)

        assert sum(statuses.values()) > 50, statuses
        assert set(statuses) <= {200, 404}, statuses  # never a 5xx, never a refused connection
        assert 1 <= peak[0] <= workers * pool, f"{peak[0]} connections for a bound of {workers * pool}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("path", "accept"), [("/api/hub/models", "application/json"), ("/models/", "text/html")]
)
def test_a_request_that_found_every_pooled_connection_busy_gets_503_and_retry_after(path, accept):
    from django.db import OperationalError
    from django.test import RequestFactory
    from psycopg_pool import PoolTimeout

    from hub.views import server_error

    request = RequestFactory().get(path, headers={"accept": accept})
    try:
        try:  # what Django raises when the pool's getconn() times out (DB_POOL_TIMEOUT)
            raise PoolTimeout("couldn't get a connection after 10.00 sec")
        except PoolTimeout as error:
            raise OperationalError(str(error)) from error
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    if accept == "application/json":
        assert json.loads(response.content)["detail"].startswith(
            "The database is not answering fast enough right now: the hub may be busy."
        )

    try:
        raise ValueError("a real defect")
    except ValueError:
        assert server_error(request).status_code == 500


@postgres_only
@pytest.mark.django_db
def test_the_by_hash_batch_look_up_is_planned_for_its_hashes():
    """The batch look-up's statements are planned with their hashes, also once psycopg prepared
    them: PostgreSQL's generic plan for 1,000 hashes took 17 s a statement where the custom plan
    takes 10 ms, so the second 10,000-hash POST of a tool hung (docs/performance.md#prepared-statements)."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from models_app.downloads import find_versions_by_sha256

    hashes = [f"{i:064X}" for i in range(2500)]
    for _ in range(7):  # past psycopg's prepare threshold (5)
        with CaptureQueriesContext(db) as queries:
            assert find_versions_by_sha256(AnonymousUser(), hashes) == {}
        sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SAVEPOINT")]
        assert sql[0] == "SET LOCAL plan_cache_mode = force_custom_plan"  # before the look-ups
        assert len([s for s in sql if "models_app_contentblob" in s]) == 3  # 1,000 hashes a statement


@postgres_only
@pytest.mark.django_db
def test_the_signed_in_model_page_statement_is_converted_once_per_process():
    """psycopg keeps its conversion of a statement's %s placeholders only for statements up to a
    length and a number of parameters (4 KiB and 50 by default); the model page's statement for a
    signed-in viewer is longer and has more, and was converted again on every request (hub/apps.py,
    docs/performance.md#prepared-statements)."""
    from psycopg import _queries

    from models_app import page_cache
    from tests.factories import make_model, make_user

    viewer, model = make_user("ines"), make_model(make_user("jules"), name="Long Statement")
    page_cache.visible_model_and_state(viewer, model.pk)
    sql, params = page_cache._model_and_own_state.sql(model.pk, viewer.pk)
    assert len(sql.encode()) > 4096  # longer than psycopg keeps by default
    assert len(params) > 50  # and more parameters than it keeps by default
    before = _queries._query2pg.cache_info()
    found, own, _ = page_cache.visible_model_and_state(viewer, model.pk)
    after = _queries._query2pg.cache_info()
    assert (found, own) == (model, False)
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
