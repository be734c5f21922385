"""Optional virus scan of uploaded bytes by a ClamAV daemon, over clamd's INSTREAM protocol.

Speaks the protocol with the socket module (no client library): send `zINSTREAM\\0`, then the data as
chunks each prefixed with its length as 4 bytes big-endian, then a zero length; clamd answers one
NUL-terminated line: `stream: OK`, `stream: <signature> FOUND`, or `<reason> ERROR`.

Configured by CLAMD_SOCKET (a Unix socket path) or CLAMD_HOST and CLAMD_PORT (TCP); the socket wins
when both are set. clamd refuses streams over its StreamMaxLength (25 MB by default; its maximum is
4 GB), which model files exceed: raise it in clamd.conf or expect ("Error", "INSTREAM size limit
exceeded").
"""

import socket
import struct
from collections.abc import Iterable

from django.conf import settings

CHUNK_SIZE = 64 * 1024  # clamd reads at most StreamMaxLength; small frames keep its buffers small
DEFAULT_PORT = 3310
# clamd answers only after the whole stream is scanned; a multi-GB file takes minutes.
TIMEOUT = 600
MAX_REPLY = 4096


def clamav_configured() -> bool:
    return bool(getattr(settings, "CLAMD_SOCKET", None) or getattr(settings, "CLAMD_HOST", None))


def scan_stream(chunks: Iterable[bytes]) -> tuple[str, str | None]:
    """Stream bytes to clamd and return ("Success", None), ("Danger", "<signature> FOUND") or
    ("Error", reason).

    Problems talking to clamd become ("Error", ...), never an exception; errors raised while reading
    `chunks` (the storage) propagate, so the caller can retry the file.
    """
    with InstreamScan() as scan:
        for chunk in chunks:
            scan.feed(chunk)
        return scan.verdict()


class InstreamScan:
    """One INSTREAM session that is fed while the bytes pass by, so the pipeline reads a file once for
    its hashes and ClamAV together (docs/hashes.md#one-read-for-hashes-and-the-virus-scan):
    `hashes = hash_chunks(scan.tee(chunks))`, then `scan.verdict()`.

    A clamd problem ends the session with an ("Error", ...) verdict and the bytes keep flowing to the
    other readers; an error raised by `chunks` (the storage) propagates. Use it as a context manager,
    so the socket is closed whatever happens.
    """

    def __init__(self):
        self.where = _address_text()
        self.result: tuple[str, str | None] | None = None
        self.sock: socket.socket | None = None
        try:
            self.sock = _connect()
        except OSError as exc:
            self.result = ("Error", f"ClamAV is not reachable at {self.where}: {_reason(exc)}")
            return
        try:
            self.sock.sendall(b"zINSTREAM\0")
        except OSError as exc:
            self._dropped(exc)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def tee(self, chunks: Iterable[bytes]):
        """Yield the chunks unchanged, sending each to clamd first."""
        for chunk in chunks:
            self.feed(chunk)
            yield chunk

    def feed(self, chunk: bytes) -> None:
        if self.result is not None:
            return  # clamd already answered or went away: the rest of the bytes are not its
        view = memoryview(chunk).cast("B")
        for start in range(0, len(view), CHUNK_SIZE):
            piece = view[start : start + CHUNK_SIZE]
            try:
                self.sock.sendall(struct.pack(">I", len(piece)))
                self.sock.sendall(piece)
            except OSError as exc:
                # clamd stops reading and answers (then closes) when the stream is too long.
                self._dropped(exc)
                return

    def verdict(self) -> tuple[str, str | None]:
        """End the stream and return clamd's verdict (see scan_stream)."""
        if self.result is None:
            try:
                self.sock.sendall(struct.pack(">I", 0))
            except OSError as exc:
                self._dropped(exc)
            else:
                self.result = _verdict(_read_reply(self.sock)) or (
                    "Error",
                    f"ClamAV at {self.where} gave no answer.",
                )
        self.close()
        return self.result

    def _dropped(self, exc: OSError) -> None:
        self.result = _verdict(_read_reply(self.sock)) or (
            "Error",
            f"ClamAV at {self.where} dropped the connection: {_reason(exc)}",
        )
        self.close()


def _connect() -> socket.socket:
    path = getattr(settings, "CLAMD_SOCKET", None)
    if path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock
    host = getattr(settings, "CLAMD_HOST", None)
    if not host:
        raise OSError("neither CLAMD_SOCKET nor CLAMD_HOST is set")
    port = int(getattr(settings, "CLAMD_PORT", None) or DEFAULT_PORT)
    return socket.create_connection((host, port), timeout=TIMEOUT)


def _read_reply(sock: socket.socket) -> str | None:
    """Read up to the reply's terminating NUL (or until clamd closes); None when nothing came."""
    data = b""
    try:
        while b"\0" not in data and len(data) < MAX_REPLY:
            part = sock.recv(MAX_REPLY)
            if not part:
                break
            data += part
    except OSError:
        pass
    text = data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def _verdict(reply: str | None) -> tuple[str, str | None] | None:
    if reply is None:
        return None
    if reply.endswith("ERROR"):
        return "Error", reply.removesuffix("ERROR").strip().rstrip(".") or reply
    # "stream: OK"; clamd prefixes a session id ("1: stream: OK") inside IDSESSION.
    status = reply.partition("stream: ")[2] or reply
    if status == "OK":
        return "Success", None
    if status.endswith(" FOUND"):
        return "Danger", status
    return "Error", f"ClamAV answered {reply!r}."


def _address_text() -> str:
    path = getattr(settings, "CLAMD_SOCKET", None)
    if path:
        return str(path)
    return f"{getattr(settings, 'CLAMD_HOST', None)}:{getattr(settings, 'CLAMD_PORT', None) or DEFAULT_PORT}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
