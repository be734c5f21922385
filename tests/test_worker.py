"""A real Celery worker process, on the configured broker (the embedded one, or Redis in CI), does the work."""

import hashlib
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from hub.celery import app as celery_app
from models_app import demo
from models_app.models import FileStatus, ModelFile
from tests.factories import make_model


def _database_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"])}
    user = db["USER"] or ""
    auth = f"{user}:{db['PASSWORD']}@" if db["PASSWORD"] else (f"{user}@" if user else "")
    return {"DATABASE_URL": f"postgres://{auth}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"}


def _drop_cached_broker_connections():
    """Celery caches its connection pool, built from the transport options of the moment; forget it so
    the next publish uses the options set by this test (what Celery itself does after a fork). The
    pools stay open: kombu shares them between apps, keyed by URL and transport options."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(tmp_path, settings):
    """Start `celery -A hub worker` against the test database, storage and a private broker folder."""
    original_options = dict(celery_app.conf.broker_transport_options or {})
    env = {**os.environ, **_database_env(), "MEDIA_ROOT": str(settings.MEDIA_ROOT), "VAR_DIR": str(tmp_path)}
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        broker_dir = tmp_path / "broker"
        env["CELERY_BROKER_DIR"] = str(broker_dir)
        options = {
            key: str(broker_dir / folder)
            for key, folder in [
                ("data_folder_in", "queue"),
                ("data_folder_out", "queue"),
                ("processed_folder", "processed"),
                ("control_folder", "control"),
            ]
        }
        for folder in set(options.values()):
            os.makedirs(folder, exist_ok=True)
        celery_app.conf.broker_transport_options = {**celery_app.conf.broker_transport_options, **options}
    celery_app.conf.task_always_eager = False
    _drop_cached_broker_connections()
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hub", "worker", "--pool", "prefork", "-c", "1", "-l", "INFO"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, log
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_transport_options = original_options
        _drop_cached_broker_connections()
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_hashes_an_uploaded_file(base_models, creator, worker):
    process, log = worker
    model = make_model(creator, content=demo.tiny_checkpoint(), filename="ckpt.safetensors")
    model_file = ModelFile.objects.get(version__model=model)
    deadline = time.monotonic() + 90
    while model_file.status != FileStatus.READY and time.monotonic() < deadline:
        assert process.poll() is None, "the worker exited early"
        time.sleep(0.2)
        model_file.refresh_from_db()
    log.seek(0)
    assert model_file.status == FileStatus.READY, log.read()[-3000:]
    assert model_file.blob.sha256 == hashlib.sha256(demo.tiny_checkpoint()).hexdigest().upper()
