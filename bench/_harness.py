"""Shared helpers for the benchmarks: a private hub instance (its own var/ folder), an optional moto S3
server, gunicorn, and RSS sampling from /proc. Benchmarks print numbers; they assert nothing."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def moto_server():
    """An S3 endpoint on loopback; yields the S3_* environment that points the hub at it."""
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        yield {
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "S3_BUCKET": "bench",
            "S3_ACCESS_KEY": "bench",
            "S3_SECRET_KEY": "bench-secret",
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def environ_without(*prefixes: str) -> dict[str, str]:
    """This process's environment without the variables starting with any of `prefixes` (the
    caller's own hub configuration, which a benchmark's hub must not inherit)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@contextlib.contextmanager
def hub_env(extra: dict | None = None):
    """Environment of a throwaway hub: its own var/ (SQLite, files, broker), migrated, with a user."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as var:
        env = environ_without("DATABASE_URL", "REDIS_URL", "S3_", "CELERY_")
        env.update({"VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "hub.settings", "ALLOWED_HOSTS": "127.0.0.1"})
        env.update(extra or {})
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        if env.get("S3_BUCKET"):
            subprocess.run(
                [*manage, "create_bucket"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
            )
        create_user = (
            "from django.contrib.auth.models import User;"
            "User.objects.filter(username='bench').exists() or "
            "User.objects.create_user('bench', 'bench@example.com', 'bench-password')"
        )
        subprocess.run(
            [*manage, "shell", "-c", create_user], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
        yield env


@contextlib.contextmanager
def gunicorn(env: dict, workers: int = 1):
    port = free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "hub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "600",
        ],  # fmt: skip
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def make_run_server(env: dict):
    """The web server of `make run`: bin/run-web (gunicorn with hub/gunicorn_conf.py: threaded
    workers), with DEBUG on as `make run` sets it (so the code reloader runs too)."""
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / "bin" / "run-web")],
        env={**env, "PORT": str(port), "DEBUG": "true", "VENV": str(VENV_BIN.parent)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def child_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in out.split()]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """Samples the summed RSS of some processes every `interval` seconds in a thread; keeps the peak."""

    def __init__(self, pids: list[int], interval: float = 0.05):
        self.pids, self.interval = pids, interval
        self.peak = self.current()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def mib(n: float) -> str:
    return f"{n / 1024**2:.1f} MiB"
