"""Fixtures shared by the models_app tests: uploads in small parts, and a stand-in for a ClamAV daemon
speaking clamd's protocol.

ClamAV itself can't run here (its signatures come from the internet), so the stand-in answers the
way clamd does; the hub's client code and the pipeline around it are real.
"""

import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path

import pytest

from tests.factories import make_model

PART = 5 * 1024 * 1024  # S3's smallest part


@pytest.fixture
def small_parts(settings):
    """Uploads in parts of S3's smallest size, so a test's file is a few parts."""
    settings.UPLOAD_PART_SIZE = PART


@pytest.fixture
def version(creator):
    """An unpublished model's version, for uploads."""
    return make_model(creator, publish=False).versions.get()


# The EICAR anti-virus test string, assembled at run time so that no scanner flags this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FakeClamd:
    """Accepts one connection and answers like clamd: `stream: OK`, `stream: Eicar-Signature FOUND`,
    or `INSTREAM size limit exceeded. ERROR` (then hangs up) once more than `limit` bytes arrived."""

    def __init__(self, listener: socket.socket, *, limit: int | None = None, answer: bool = True):
        self.listener = listener
        self.limit = limit
        self.answer = answer
        self.command = b""
        self.frames: list[int] = []
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            if not self.answer:
                return
            while not self.command.endswith(b"\0"):
                byte = conn.recv(1)
                if not byte:
                    return
                self.command += byte
            while True:
                header = self._recv_exactly(conn, 4)
                if header is None:
                    return
                (size,) = struct.unpack(">I", header)
                self.frames.append(size)
                if size == 0:
                    break
                data = self._recv_exactly(conn, size)
                if data is None:
                    return
                self.received += data
                if self.limit is not None and len(self.received) > self.limit:
                    conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                    return
            found = EICAR in self.received
            conn.sendall(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")

    @staticmethod
    def _recv_exactly(conn: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            try:
                part = conn.recv(n - len(data))
            except OSError:
                return None
            if not part:
                return None
            data += part
        return data

    def stop(self) -> None:
        self.listener.close()
        self.thread.join(timeout=10)


@pytest.fixture
def socket_dir():
    # AF_UNIX paths are limited to about 100 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="clamd-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def clamd(settings, socket_dir):
    """Start a stand-in on a Unix socket and point CLAMD_SOCKET at it; call with the server's options."""
    servers = []

    def start(**options) -> FakeClamd:
        path = socket_dir / f"clamd{len(servers)}.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(1)
        settings.CLAMD_SOCKET = str(path)
        settings.CLAMD_HOST = None
        servers.append(FakeClamd(listener, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
