"""The optional ClamAV scan, against a small clamd stand-in that speaks INSTREAM on a real socket."""

import socket

import pytest

from models_app.files.clamav import CHUNK_SIZE, clamav_configured, scan_stream
from tests.models_app.conftest import EICAR, FakeClamd


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
