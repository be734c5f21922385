"""A real Celery worker process, on the configured broker (the embedded one, or Redis in CI), does the work."""

import hashlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from hub.celery import app as celery_app
from models_app import demo, tasks
from models_app.models import ContentBlob, FileStatus, ModelFile
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


class Workers:
    """Starts `celery -A hub worker` processes against the test database, storage and broker."""

    def __init__(self, env, cwd, log_dir):
        self.env, self.cwd, self.log_dir = env, cwd, log_dir
        self.processes = []

    def start(self) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "w+")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "--pool",
                "prefork",
                "-c",
                "1",
                "-l",
                "INFO",
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a test can kill it with its pool
        )
        process.log = log
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """What an out-of-memory killer or a pulled plug does: SIGKILL, no goodbye to the broker."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def logs(self) -> str:
        out = []
        for process in self.processes:
            process.log.seek(0)
            out.append(process.log.read()[-2000:])
        return "\n---\n".join(out)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            process.log.close()


@pytest.fixture
def workers(tmp_path, settings):
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
    manager = Workers(env, settings.BASE_DIR, tmp_path)
    try:
        yield manager
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_transport_options = original_options
        _drop_cached_broker_connections()
        manager.stop_all()


def wait_for(model_file, statuses, seconds=90, poll=0.2, alive=None):
    deadline = time.monotonic() + seconds
    while model_file.status not in statuses and time.monotonic() < deadline:
        if alive is not None:
            assert alive.poll() is None, "the worker exited early"
        time.sleep(poll)
        model_file.refresh_from_db()
    return model_file


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_hashes_an_uploaded_file(base_models, creator, workers):
    process = workers.start()
    model = make_model(creator, content=demo.tiny_checkpoint(), filename="ckpt.safetensors", publish=False)
    model_file = wait_for(ModelFile.objects.get(version__model=model), {FileStatus.READY}, alive=process)
    assert model_file.status == FileStatus.READY, workers.logs()
    assert model_file.blob.sha256 == hashlib.sha256(demo.tiny_checkpoint()).hexdigest().upper()


@pytest.mark.django_db(transaction=True)
def test_a_file_left_behind_by_a_killed_worker_is_finished_by_the_sweep(
    base_models, creator, workers, settings
):
    """The worker is SIGKILLed while it processes the file; its message is gone with it (docs/embedded-services.md#killed-workers), and the periodic sweep is what brings the file to ready on a new worker."""
    payload = os.urandom(8 << 20) * 24  # 192 MiB: processing takes long enough to be caught mid-way
    for attempt in range(3):
        process = workers.start()
        model = make_model(
            creator, name=f"Big {attempt}", content=payload, filename="big.txt", type="Other", publish=False
        )
        model_file = wait_for(
            ModelFile.objects.get(version__model=model),
            {FileStatus.PROCESSING, FileStatus.READY},
            poll=0.005,
            alive=process,
        )
        workers.kill(process)
        model_file.refresh_from_db()
        if model_file.status == FileStatus.PROCESSING:
            break  # caught mid-way; otherwise the file was too quick, try again
    assert model_file.status == FileStatus.PROCESSING, "could not catch the worker mid-task"
    time.sleep(1)
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.PROCESSING  # nobody else is going to finish it
    settings.FILE_STUCK_AFTER = 0
    second = workers.start()
    assert tasks.sweep_stuck_files() == 1
    model_file = wait_for(model_file, {FileStatus.READY}, alive=second)
    assert model_file.status == FileStatus.READY, workers.logs()
    assert model_file.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()


def _task_results(workers: Workers, task: str) -> list[tuple[int, str]]:
    """(worker number, returned value) of every run of `task` the workers logged."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: '(\w+)'")
    results = []
    for number, process in enumerate(workers.processes):
        process.log.seek(0)
        results += [(number, result) for result in pattern.findall(process.log.read())]
    return results


def _wait_until_ready(workers: Workers, seconds=120) -> None:
    deadline = time.monotonic() + seconds
    for process in workers.processes:
        while time.monotonic() < deadline:
            assert process.poll() is None, workers.logs()
            process.log.seek(0)
            if " ready." in process.log.read():
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"a worker did not start:\n{workers.logs()}")


@pytest.mark.django_db(transaction=True)
def test_three_workers_on_one_queue_process_each_file_once_however_often_it_is_queued(
    base_models, creator, workers
):
    """Issue 17 part 8: three worker processes take messages from the same queue, and every file is
    queued three times (its upload's message and two duplicates, as a redelivery or the stuck-files
    sweep would send). The conditional update in tasks.process_file lets exactly one run process a
    file; the others return "skipped". Each worker logs what each run returned."""
    for _ in range(3):
        workers.start()
    _wait_until_ready(workers)
    payloads = [os.urandom(3 << 20) + bytes([n]) for n in range(6)]  # distinct: one blob each
    files = []
    for n, payload in enumerate(payloads):
        model = make_model(
            creator, name=f"Shared {n}", content=payload, filename="data.txt", type="Other", publish=False
        )
        files.append(ModelFile.objects.get(version__model=model))  # its first message is queued
    for model_file in files:
        for _ in range(2):
            tasks.process_file.delay(model_file.id)

    deadline = time.monotonic() + 180
    while len(_task_results(workers, "models_app.tasks.process_file")) < 3 * len(files):
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.2)

    results = _task_results(workers, "models_app.tasks.process_file")
    assert sorted(result for _, result in results) == ["ready"] * len(files) + ["skipped"] * 2 * len(files)
    assert len({number for number, _ in results}) >= 2, "the queue was not shared"
    for model_file, payload in zip(files, payloads, strict=True):
        model_file.refresh_from_db()
        assert model_file.status == FileStatus.READY
        assert model_file.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()
        assert model_file.upload_key == ""  # the one run that processed it also cleaned up after itself
    assert ContentBlob.objects.count() == len(files)
