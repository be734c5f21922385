"""The fault suite's stage (docs/faults.md): a private PostgreSQL cluster, a private Redis and a moto
S3 server behind a TCP proxy that a test can cut, plus the hub's own processes (gunicorn through
bin/run-web, Celery workers) started against them. The shared servers of the machine are never
touched: every service a test breaks is its own.

Run by .ci/run's faults step (`pytest -m faults tests/faults`); `make test` deselects the marker.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5442"))
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "6392"))
MOTO_PORT = int(os.environ.get("FAULTS_MOTO_PORT", "9612"))
DATABASE = "hub_faults"
USER, PASSWORD = "faults", "faults-password"
MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part S3 takes: small uploads still have several parts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float = 60, poll: float = 0.2, what: str = "the condition"):
    """Poll `check` until it returns something truthy; returns it, or fails naming `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- The services.


class Postgres:
    """A private cluster (initdb in a temp folder, owned by the postgres user when run as root)."""

    def __init__(self, port: int):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins and not shutil.which("pg_ctl"):
            pytest.skip("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
        self.bin = Path(bins[-1]).parent if bins else Path(shutil.which("pg_ctl")).parent
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="hub-faults-pg-")
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.log = f"{self.dir}/data", f"{self.dir}/server.log"
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "start")

    def stop(self) -> None:
        """A restart's first half: the server closes every connection (a fast shutdown)."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, *params):
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A private redis-server that keeps nothing on disk: a restart loses its queue, as a crash would."""

    def __init__(self, port: int, log_dir: str):
        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")
        self.port, self.log_dir, self.process, self.log = port, log_dir, None, None

    def _log(self):
        if self.log is None:
            self.log = open(f"{self.log_dir}/redis.log", "a")
        return self.log

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.log_dir],
            stdout=self._log(), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port), 30, what="redis-server answering")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def close(self) -> None:
        self.kill()
        if self.log is not None:
            self.log.close()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Proxy:
    """A TCP forwarder in front of a server. stop() closes the door and every open connection (the
    server looks unreachable: connection refused), start() opens it again on the same port."""

    def __init__(self, target_port: int):
        self.target, self.port = target_port, free_port()
        self.listener, self.sockets, self.lock = None, set(), threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone would not
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


# --- The hub's processes.


class Hub:
    """gunicorn (bin/run-web, the production settings of hub/gunicorn_conf.py) and Celery workers,
    with one environment; every log goes to a file the test can show when it fails."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        self.web = None

    def _start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}-{len(self.processes)}.log", "w+")
        process = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the test can kill it with its children
        )  # fmt: skip
        process.log = log
        self.processes.append(process)
        return process

    def start_web(self) -> subprocess.Popen:
        self.web = self._start(
            "web", [str(ROOT / "bin" / "run-web")], {"PORT": str(self.port), "VENV": str(VENV_BIN.parent)}
        )
        wait_until(lambda: self.answers("/healthz"), 90, 0.3, "the web server answering")
        return self.web

    def start_worker(self) -> subprocess.Popen:
        return self._start(
            "worker",
            [str(VENV_BIN / "celery"), "-A", "hub", "worker", "--pool", "prefork", "-c", "1", "-l", "INFO"],
        )

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the whole process group: no goodbye to the broker or the database."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def manage(self, *args: str, env: dict | None = None) -> str:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env={**self.env, **(env or {})},
            check=True, capture_output=True, text=True, timeout=300,
        ).stdout  # fmt: skip

    def celery_call(self, task: str) -> None:
        """Queue a task by name through the broker, as beat would."""
        subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "hub", "call", task], cwd=ROOT, env=self.env,
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def logs(self, tail: int = 3000) -> str:
        """What the processes wrote, the last `tail` characters of each (0: all of it)."""
        out = []
        for process in self.processes:
            process.log.seek(0)
            out.append(f"--- {process.args[-1] if process.args else ''}\n{process.log.read()[-tail:]}")
        return "\n".join(out)

    def stop_all(self) -> None:
        """The test is over: no graceful shutdown to wait for (gunicorn's takes up to 10 s)."""
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)
            process.log.close()

    # --- HTTP, as a script or a browser would speak to the hub.

    def request(self, method: str, path: str, body=None, *, data: bytes | None = None, auth: bool = True,
                headers: dict | None = None, timeout: float = 60):  # fmt: skip
        """(status, headers, body): JSON decoded when it is JSON. Never raises on an HTTP error."""
        url = path if path.startswith("http") else self.base + path
        all_headers = dict(headers or {})
        if auth and url.startswith(self.base):
            all_headers["Authorization"] = f"Bearer {self.env['FAULTS_API_KEY']}"
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, response_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, response_headers, raw = exc.code, exc.headers, exc.read()
        if "json" in response_headers.get("Content-Type", ""):
            return status, response_headers, json.loads(raw)
        return status, response_headers, raw

    def answers(self, path: str) -> bool:
        try:
            return self.request("GET", path, auth=False, timeout=5)[0] == 200
        except OSError:
            return False

    def api(self, method: str, path: str, body=None, expect: int = 200):
        status, _, answer = self.request(method, path, body)
        assert status in (expect, 201 if expect == 200 else expect), (status, answer, self.logs())
        return answer

    # --- A creator's upload through the multipart API (docs/uploads, README "Uploads").

    def new_version(self, name: str) -> int:
        model = self.api("POST", "/api/hub/models", {"name": name, "type": "Other"})
        version = self.api(
            "POST", f"/api/hub/models/{model['id']}/versions", {"name": "v1", "base_model": "Other"}
        )
        return version["id"]

    def start_upload(self, version_id: int, size: int, filename: str = "weights.txt") -> int:
        started = self.api(
            "POST", "/api/hub/uploads",
            {"version_id": version_id, "filename": filename, "size": size, "type": "Other"},
        )  # fmt: skip
        return started["id"]

    def send_part(self, file_id: int, number: int, data: bytes):
        """Sign part `number` and PUT it where the hub says (S3, or the hub's own part endpoint)."""
        url = self.api("POST", f"/api/hub/uploads/{file_id}/parts/{number}")["url"]
        return self.request(
            "PUT", url, data=data, auth=False, headers={"Content-Type": "application/octet-stream"}
        )


def part_of(payload: bytes, number: int) -> bytes:
    return payload[(number - 1) * PART : number * PART]


# --- Fixtures.


@pytest.fixture(scope="session")
def service_dir():
    path = tempfile.mkdtemp(prefix="hub-faults-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    server = Postgres(PG_PORT)
    try:
        server.start()
        subprocess.run(
            [*server.as_user, str(server.bin / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT),
             "-U", "postgres", DATABASE],
            check=True, capture_output=True,
        )  # fmt: skip
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def redis_server(service_dir):
    server = Redis(REDIS_PORT, service_dir)
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_up(redis_server):
    """A test that kills Redis gets it back at the end, even when it fails half-way."""
    yield redis_server
    if redis_server.process.poll() is not None:
        redis_server.start()


@pytest.fixture(scope="session")
def s3(service_dir):
    """moto on its own port, reached through a Proxy the test can cut."""
    log = open(f"{service_dir}/moto.log", "w")
    process = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(MOTO_PORT)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: port_open(MOTO_PORT), 60, what="moto answering")
        proxy = Proxy(MOTO_PORT)
        proxy.start()
        yield proxy
        proxy.stop()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def base_env(var_dir: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "S3_", "CELERY_", "MEDIA_ROOT", "SQLITE_PATH"))
    }
    env.update(
        VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="hub.settings",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        UPLOAD_PART_SIZE=str(PART),
        FILE_STUCK_AFTER="1",  # the sweep, when a test calls it, takes any file left behind
        UPLOAD_RATE_LIMIT="0",
        UPLOAD_IP_RATE_LIMIT="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def migrated(postgres, redis_server, service_dir):
    """The private database, migrated once, with the creator the tests sign in as."""
    env = {**base_env(service_dir), "DATABASE_URL": postgres.url(), "REDIS_URL": redis_server.url()}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=600)
    create_user = (
        "from django.contrib.auth.models import User;"
        f"User.objects.filter(username='{USER}').exists() or "
        f"User.objects.create_user('{USER}', 'faults@example.com', '{PASSWORD}')"
    )
    subprocess.run([*manage, "shell", "-c", create_user], cwd=ROOT, env=env, check=True, timeout=300)
    # An API key, not the password: HTTP Basic runs the password hasher on every request.
    out = subprocess.run(
        [*manage, "create_api_key", USER],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    ).stdout
    env["FAULTS_API_KEY"] = out.strip().splitlines()[-1]
    return env


@pytest.fixture
def hub_factory(migrated, tmp_path):
    """Makes a Hub on the private PostgreSQL and Redis; local disk storage under the test's tmp_path
    unless the test passes S3 settings. Every process it started is stopped at the end."""
    hubs = []

    def make(**extra) -> Hub:
        env = {**migrated, "MEDIA_ROOT": str(tmp_path / "media"), **{k: str(v) for k, v in extra.items()}}
        hub = Hub(env, tmp_path)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.stop_all()


@pytest.fixture
def figures(request):
    """What a fault test measured, printed at the end of the run for docs/faults.md."""
    measured: dict = {}
    yield measured
    if measured:
        FIGURES.append((request.node.name, measured))


FIGURES: list = []


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault figures (docs/faults.md)")
        for name, measured in FIGURES:
            details = ", ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in measured.items()
            )
            terminalreporter.write_line(f"{name}: {details}")
