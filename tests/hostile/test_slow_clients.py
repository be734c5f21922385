"""Slow and oversized upload parts against the real web server (bin/run-web: gunicorn, threaded
workers), docs/hostile-input.md#slow-clients: a client that stalls or trickles an upload part's body
does not keep other visitors waiting, is cut off with a 4xx after REQUEST_READ_TIMEOUT (or at
REQUEST_BODY_MIN_RATE), and leaves no traceback in the server's log; a part longer than announced is
refused before its body is read."""

import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.once import in_the_sqlite_run_only
from tests.test_make_run import ROOT, VENV, free_port, get, wait_for

# Its own gunicorn on its own SQLite hub, whatever the run's database.
pytestmark = in_the_sqlite_run_only

SETUP = """
import json
from community.models import ApiKey
from models_app import services
from tests.factories import make_user
user = make_user("slowpoke")
_, key = ApiKey.create(user=user, name="slow")
model = services.create_model(owner=user, name="Slow LoRA", type="LORA")
version = services.create_version(model=model, name="v1", base_model="SD 1.5")
print(json.dumps({"key": key, "version": version.id}))
"""

PART = 1000  # the file's whole size: one part


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn on a private, migrated SQLite hub, with a 5-second stall timeout and a trickle limit
    of 200 bytes a second; plus an API key and a draft version to upload to."""
    var = tmp_path_factory.mktemp("slow-var")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "S3_", "CELERY_"))
    }
    env.update(
        VAR_DIR=str(var), VENV=str(VENV), DJANGO_SETTINGS_MODULE="hub.settings",
        REQUEST_READ_TIMEOUT="5", REQUEST_BODY_MIN_RATE="200", UPLOAD_RATE_LIMIT="0",
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
    )  # fmt: skip
    setup = json.loads(made.stdout.strip().splitlines()[-1])
    port = free_port()
    log = var / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            [str(ROOT / "bin" / "run-web")], cwd=ROOT, env={**env, "PORT": str(port)}, stdout=out, stderr=out
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", web)
        yield {"base": base, "port": port, "log": log, **setup}
    finally:
        web.terminate()
        web.wait(timeout=30)


def _api(server, path, body):
    request = urllib.request.Request(
        server["base"] + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server['key']}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _part_path(server) -> str:
    """A fresh upload of PART bytes and the signed path its only part is PUT to."""
    upload = _api(
        server, "/api/hub/uploads", {"version_id": server["version"], "filename": "slow.txt", "size": PART}
    )
    url = _api(server, f"/api/hub/uploads/{upload['id']}/parts/1", {})["url"]
    return urlsplit(url).path


def _open_part(server, path: str, length: int, first: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server["port"]), timeout=30)
    sock.sendall(
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        + first
    )
    return sock


def _answer(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


def test_stalled_upload_parts_do_not_block_pages_and_are_cut_off_with_a_408(server):
    stalled = [_open_part(server, _part_path(server), PART, b"x" * 100) for _ in range(4)]
    status, _, html = get(server["base"] + "/")  # another visitor, while four parts hang
    assert status == 200 and b"Model Hub" in html
    still_waiting = [sock for sock in stalled if not select.select([sock], [], [], 0)[0]]
    assert still_waiting, "the page was only served once the stalled uploads had been cut off"
    answers = [_answer(sock) for sock in stalled]
    assert {_status(a) for a in answers} == {408}, answers
    assert b"The request body stopped arriving" in answers[0]


def test_a_trickling_upload_part_is_cut_off_at_the_minimum_rate(server):
    """Two bytes a second never trip the stall timeout; the minimum rate (200 B/s after 5 s of grace:
    10 s for 1,000 bytes) ends the body short, and the part is refused. The client gives up after
    60 s, far past that deadline."""
    sock = _open_part(server, _part_path(server), PART, b"x")
    status, _, _ = get(server["base"] + "/models/")
    assert status == 200
    sent, started = 1, time.monotonic()
    while time.monotonic() - started < 60 and not select.select([sock], [], [], 0.5)[0]:
        try:
            sock.sendall(b"x")
        except OSError:
            break
        sent += 1
    answer = _answer(sock)
    assert sent < PART
    assert _status(answer) == 400, answer[:300]
    assert b"ended after" in answer


def test_a_part_longer_than_announced_is_refused_before_its_body_is_sent(server):
    sock = _open_part(server, _part_path(server), PART * 1000, b"")
    answer = _answer(sock)
    assert _status(answer) == 413 and b"must be exactly" in answer


def test_the_server_log_holds_no_traceback(server):
    log = server["log"].read_text()
    assert "Traceback" not in log and "[ERROR]" not in log, log[-3000:]
