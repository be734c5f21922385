"""The optional ClamAV scan, against a small clamd stand-in that speaks INSTREAM on a real socket."""

import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path

import pytest

from models_app.clamav import CHUNK_SIZE, clamav_configured, scan_stream

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


def test_clamav_is_off_until_a_socket_or_a_host_is_configured(settings):
    settings.CLAMD_SOCKET = None
    settings.CLAMD_HOST = None
    assert clamav_configured() is False

    settings.CLAMD_SOCKET = "/run/clamav/clamd.ctl"
    assert clamav_configured() is True

    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = "clamav"
    assert clamav_configured() is True


def test_a_clean_stream_is_success_and_is_framed_in_chunks_of_at_most_64_kib(clamd):
    server = clamd()
    chunks = [b"a" * 100_000, b"", b"b" * 10, b"c" * CHUNK_SIZE, bytearray(b"d" * 3)]

    verdict = scan_stream(iter(chunks))
    server.thread.join(timeout=10)

    assert verdict == ("Success", None)
    assert server.command == b"zINSTREAM\0"
    assert server.frames == [65536, 100_000 - 65536, 10, 65536, 3, 0]
    assert bytes(server.received) == b"".join(chunks)


def test_the_eicar_test_file_is_danger_with_the_signature_clamd_named(clamd):
    clamd()
    half = len(EICAR) // 2

    verdict = scan_stream([b"header bytes ", EICAR[:half], EICAR[half:], b" trailer"])

    assert verdict == ("Danger", "Eicar-Signature FOUND")


def test_a_stream_over_clamds_size_limit_is_an_error_verdict_not_an_exception(clamd):
    clamd(limit=200_000)

    verdict = scan_stream(b"x" * CHUNK_SIZE for _ in range(64))

    assert verdict == ("Error", "INSTREAM size limit exceeded")


def test_a_missing_socket_gives_a_readable_error_instead_of_raising(settings, socket_dir):
    missing = socket_dir / "nowhere.sock"
    settings.CLAMD_SOCKET = str(missing)

    verdict, message = scan_stream([b"data"])

    assert verdict == "Error"
    assert message.startswith(f"ClamAV is not reachable at {missing}: ")


def test_clamd_hanging_up_without_an_answer_is_an_error(clamd):
    clamd(answer=False)

    verdict, message = scan_stream([b"data"])

    assert verdict == "Error"
    assert "ClamAV at" in message


def test_clamd_over_tcp_with_host_and_port_works_too(settings):
    listener = socket.create_server(("127.0.0.1", 0))
    server = FakeClamd(listener)
    settings.CLAMD_SOCKET = None
    settings.CLAMD_HOST = "127.0.0.1"
    settings.CLAMD_PORT = listener.getsockname()[1]
    try:
        verdict = scan_stream([EICAR])
    finally:
        server.stop()

    assert verdict == ("Danger", "Eicar-Signature FOUND")


def test_a_storage_error_while_streaming_propagates_so_the_worker_can_retry(clamd):
    clamd()

    def chunks():
        yield b"first part"
        raise ConnectionResetError("storage went away")

    with pytest.raises(ConnectionResetError):
        scan_stream(chunks())
