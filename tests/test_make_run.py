"""`make run` serves with gunicorn (bin/run-dev → bin/run-web, hub/gunicorn_conf.py), not with Django's
development server: pages and static files answer, API keys in query strings stay out of the access
log, and Ctrl-C stops the web server and the Celery worker together."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.once import in_the_sqlite_run_only

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def wait_for(url: str, process, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited ({process.returncode})"
        try:
            return get(url)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def group_processes(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "args=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory):
    """A private, migrated var/ folder (SQLite), as `make run` prepares before serving."""
    var = tmp_path_factory.mktemp("make-run-var")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "S3_", "CELERY_"))
    }
    env.update(VAR_DIR=str(var), DEBUG="true", VENV=str(VENV), DJANGO_SETTINGS_MODULE="hub.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    return env


@in_the_sqlite_run_only  # make run's own embedded defaults, whatever the run's database
def test_run_web_serves_pages_and_static_files_with_gunicorn(hub_env, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            [str(ROOT / "bin" / "run-web")],
            cwd=ROOT,
            env={**hub_env, "PORT": str(port)},
            stdout=out,
            stderr=out,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/healthz?token=hub_secret-in-the-url", web)[0] == 200
        status, _, html = get(f"{base}/")
        assert status == 200 and b"Latest models" in html
        status, content_type, css = get(f"{base}/static/css/hub.css")
        assert (
            status == 200
            and content_type.startswith("text/css")
            and css == (ROOT / "static/css/hub.css").read_bytes()
        )
        web.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        web.wait(timeout=30)
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
    text = log.read_text()
    assert "gunicorn" in text.lower() and "gthread" in text and "Reloader is on" in text
    assert "GET /healthz HTTP/1.1" in text and "hub_secret-in-the-url" not in text


@in_the_sqlite_run_only
def test_ctrl_c_stops_the_web_server_and_the_worker(hub_env, tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [str(ROOT / "bin" / "run-dev")],
            cwd=ROOT,
            env={**hub_env, "PORT": str(port)},
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    pgid = run.pid
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", run)[0] == 200
        processes = group_processes(pgid)
        assert any("gunicorn" in p for p in processes) and any("celery" in p for p in processes), processes
        assert not any("runserver" in p for p in processes)
        os.killpg(pgid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        run.wait(timeout=60)
        deadline = time.monotonic() + 30
        while group_processes(pgid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert group_processes(pgid) == [], log.read_text()[-2000:]
    finally:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
