"""The six hashes tools use to find a model file (docs/hashes.md), computed in one read.

The bytes are read once, front to back. Above a small size the CPU-heavy hashers run in two worker
threads, one per core here (hashlib, zlib-ng and blake3 release the GIL on large buffers). Both are fed
the same block objects through their own bounded queue, so the two SHA-256 streams of a safetensors
file run at the same time and memory stays at a few blocks whatever the file size:

    reader (caller's thread) -+-> [queue] --> sha256 + crc32              (SHA256, AutoV2, CRC32)
                              +-> [queue] --> AutoV3's sha256 + blake3    (AutoV3, BLAKE3)

Without AutoV3 (not safetensors) the split is sha256 | crc32 + blake3, again about even.
The reader itself also hashes AutoV1's 64 KiB window, which is too small to be worth a thread.
This module must stay free of Django imports (the benchmark and workers import it bare).
"""

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import blake3
from zlib_ng import zlib_ng

CHUNK_SIZE = 1 << 20  # blocks that stay in the CPU's cache while both lanes hash them (storage.STREAM_CHUNK)
AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000

# Inputs shorter than this are hashed in the caller's thread: starting threads costs more than it saves.
PARALLEL_THRESHOLD = 4 << 20
# Chunks at least this big are handed to the hashers as they are; smaller ones (botocore's iter_chunks
# yields 1 KiB by default) are joined into blocks of about CHUNK_SIZE so the queues see few, big items.
PASS_THROUGH_SIZE = 1 << 20
# Blocks waiting in each hasher's queue. Memory in flight is about (QUEUE_DEPTH + 3) blocks.
QUEUE_DEPTH = 3

_STOP = object()  # queue sentinel: no more blocks


class _CRC32:
    """zlib's CRC32 as an object with update(), like the other hashers. zlib-ng computes the same
    value with the CPU's carry-less multiply: 0.06 s a GiB here against zlib's 0.47 s."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def update(self, data) -> None:
        self.value = zlib_ng.crc32(data, self.value)


class _Hashes:
    """Every hasher's state plus the position in the stream. Feeds one block at a time."""

    def __init__(self, data_start: int | None) -> None:
        if data_start is not None and data_start < 0:
            raise ValueError("data_start must be >= 0")
        self.data_start = data_start
        self.pos = 0
        self.sha = hashlib.sha256()
        self.autov1 = hashlib.sha256()
        self.autov3 = hashlib.sha256() if data_start is not None else None
        self.crc = _CRC32()
        self.b3 = blake3.blake3()

    def advance(self, block) -> memoryview | bytes | None:
        """Account for the next block: hash the AutoV1 window here, return the part that AutoV3 covers."""
        pos, end = self.pos, self.pos + len(block)
        self.pos = end
        # AutoV1 is A1111's legacy hash of the 64 KiB at 1 MiB; it may straddle blocks of any size.
        lo, hi = max(pos, AUTOV1_OFFSET), min(end, AUTOV1_OFFSET + AUTOV1_LENGTH)
        if lo < hi:
            self.autov1.update(memoryview(block)[lo - pos : hi - pos])
        if self.data_start is None or end <= self.data_start:
            return None
        if pos >= self.data_start:
            return block
        return memoryview(block)[self.data_start - pos :]

    def update_all(self, block) -> None:
        """The single-thread way: every hasher in turn, in this thread."""
        data = self.advance(block)
        self.sha.update(block)
        self.crc.update(block)
        self.b3.update(block)
        if data is not None:
            self.autov3.update(data)

    def result(self) -> dict[str, str]:
        sha256 = self.sha.hexdigest().upper()
        out = {
            "SHA256": sha256,
            "AutoV1": self.autov1.hexdigest().upper()[:8],
            "AutoV2": sha256[:10],
            "CRC32": f"{self.crc.value:08X}",
            "BLAKE3": self.b3.hexdigest().upper(),
        }
        if self.autov3 is not None:
            out["AutoV3_full"] = self.autov3.hexdigest().upper()
            out["AutoV3"] = out["AutoV3_full"][:12]
        return out


def _blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk a stream of bytes blocks of any sizes into immutable blocks worth queueing.

    Chunks of PASS_THROUGH_SIZE or more pass through (no copy); runs of smaller ones are joined into
    blocks of about CHUNK_SIZE. Anything that is not bytes (bytearray, memoryview: a reused buffer, perhaps) is copied, because
    the hashers read it later from other threads. Empty chunks are skipped.
    """
    pending: list[bytes] = []
    pending_size = 0
    for chunk in chunks:
        if type(chunk) is not bytes:
            chunk = memoryview(chunk).tobytes()  # a private copy; also TypeError for non-buffers
        size = len(chunk)
        if size >= PASS_THROUGH_SIZE:
            if pending:
                yield b"".join(pending)
                pending.clear()
                pending_size = 0
            yield chunk
        elif size:
            pending.append(chunk)
            pending_size += size
            if pending_size >= CHUNK_SIZE:
                yield b"".join(pending)
                pending.clear()
                pending_size = 0
    if pending:
        yield b"".join(pending)


class _ReaderFailed(Exception):
    """Marker put in the shared error list when the reader raised; never escapes this module."""


def _worker(inbox: queue.Queue, updates: list[tuple[Callable, bool]], errors: list[BaseException]) -> None:
    """Feed each queued (block, data) pair to this thread's hashers until the sentinel.

    After any failure, here, in the reader or in the other worker, keep draining the queue without
    hashing, so the reader never blocks on a full queue; the reader sees `errors` and stops early.
    """
    while True:
        item = inbox.get()
        if item is _STOP:
            return
        if not errors:
            try:
                _feed(updates, *item)
            except BaseException as exc:  # handed to the caller's thread and re-raised there
                errors.append(exc)
        del item  # hold no block while waiting for the next one


def _feed(updates: list[tuple[Callable, bool]], block: bytes, data: memoryview | bytes | None) -> None:
    """updates holds (update, takes_data) pairs: takes_data hashers (AutoV3) get only the tensor data
    part of the block (None before the data starts), the others the whole block."""
    for update, takes_data in updates:
        if not takes_data:
            update(block)
        elif data is not None:
            update(data)


def _hash_parallel(state: _Hashes, blocks: Iterable[bytes]) -> dict[str, str]:
    # Two worker threads, one per core here (per GiB: sha256 0.71 s, blake3 0.21 s, crc32 0.06 s with
    # zlib-ng, reading 0.12 s). For a 1 GiB safetensors file in the page cache this split measured
    # 1.15-1.17x plain sha256 (bench/bench_hashing.py, 2026-12-05; 1.17-1.27x with zlib's crc32,
    # against 1.26-1.29x for one thread per hasher); 1 MiB blocks keep it there on a busy machine.
    if state.autov3 is not None:
        lanes = [
            ("hashing-sha256-crc32", [(state.sha.update, False), (state.crc.update, False)]),
            ("hashing-autov3-blake3", [(state.autov3.update, True), (state.b3.update, False)]),
        ]
    else:
        lanes = [
            ("hashing-sha256", [(state.sha.update, False)]),
            ("hashing-crc32-blake3", [(state.crc.update, False), (state.b3.update, False)]),
        ]
    errors: list[BaseException] = []
    inboxes: list[queue.Queue] = []
    threads: list[threading.Thread] = []
    try:
        for name, updates in lanes:
            inbox: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
            thread = threading.Thread(target=_worker, args=(inbox, updates, errors), name=name, daemon=True)
            thread.start()
            inboxes.append(inbox)
            threads.append(thread)
        for block in blocks:
            item = (block, state.advance(block))
            for inbox in inboxes:
                inbox.put(item)
            del block, item  # hold no reference while waiting for the next block
            if errors:
                break
    except BaseException:
        errors.append(_ReaderFailed())  # tell the workers to drop what is still queued
        raise
    finally:
        # Always stop and join the workers, also when the reader raised: no thread outlives this call.
        for inbox in inboxes:
            inbox.put(_STOP)
        for thread in threads:
            thread.join()
    worker_errors = [e for e in errors if not isinstance(e, _ReaderFailed)]
    if worker_errors:
        raise worker_errors[0]
    return state.result()


def hash_chunks(chunks: Iterable[bytes], data_start: int | None = None) -> dict[str, str]:
    """Hash a stream given as bytes blocks of any sizes, e.g. botocore's StreamingBody.iter_chunks()
    (ask for 1 MiB or more there: its default of 1 KiB costs a Python loop turn per KiB).

    data_start is where a safetensors file's tensor data begins (8 + header length); AutoV3 is only
    defined for safetensors files, so pass None for anything else. Digests are UPPERCASE hex.
    Returns SHA256, AutoV1, AutoV2, CRC32, BLAKE3 and, for safetensors, AutoV3 (12 hex, the API form)
    and AutoV3_full (64 hex, kept internally). An exception from the iterator or a hasher propagates,
    and no hashing thread is left running when this returns or raises.
    """
    state = _Hashes(data_start)
    blocks = iter(_blocks(chunks))
    head: list[bytes] = []
    head_size = 0
    for block in blocks:
        head.append(block)
        head_size += len(block)
        if head_size >= PARALLEL_THRESHOLD:
            break
    else:  # the whole input is small: one thread, no queues
        for block in head:
            state.update_all(block)
        return state.result()
    return _hash_parallel(state, _chain(head, blocks))


def _chain(head: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    while head:
        yield head.pop(0)  # pop, so the buffered head is freed as it is hashed
    yield from rest


def file_hashes(f: BinaryIO, data_start: int | None = None, chunk_size: int = CHUNK_SIZE) -> dict[str, str]:
    """Hash a seekable binary stream once, from its start, reading chunk_size bytes at a time.

    Same arguments and result as hash_chunks; memory stays at a few CHUNK_SIZE blocks.
    """
    f.seek(0)
    return hash_chunks(iter(lambda: f.read(chunk_size), b""), data_start)


def guess_data_start(first_bytes: bytes, size: int) -> int | None:
    """Where AutoV3 would start if the file is safetensors: 8 + the header length its first 8 bytes
    give (little-endian u64), or None when that can't be one. A hash computed before the header is
    parsed uses this guess; the caller keeps AutoV3 only if the parsed header agrees (docs/hashes.md)."""
    if len(first_bytes) < 8:
        return None
    data_start = 8 + int.from_bytes(first_bytes[:8], "little")
    return data_start if data_start <= size else None


class StreamHasher:
    """hash_chunks for bytes pushed as they pass by (a copy, a write), not pulled from a reader:
    update(block) in order, then result(). The hashing runs in a background thread with hash_chunks'
    own two lanes, so the writer only queues blocks. AutoV3's start is guessed from the first 8 bytes
    (guess_data_start); `data_start` holds the guess once made.

    Bytes must be fed exactly once, front to back; `fed` counts them so callers can check. close()
    without result() (the copy failed) stops the thread and drops what is queued.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.fed = 0
        self.data_start: int | None = None
        self._head = b""
        self._inbox: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._thread: threading.Thread | None = None
        self._result: dict[str, str] | None = None
        self._error: BaseException | None = None

    def update(self, block) -> None:
        if type(block) is not bytes:
            block = memoryview(block).tobytes()  # the hashing thread reads it later
        if not block:
            return
        self.fed += len(block)
        if self._thread is None:
            if len(self._head) + len(block) < 8 and self.fed < self.size:
                self._head += block  # not enough bytes yet to read the header length
                return
            block, self._head = self._head + block, b""
            self.data_start = guess_data_start(block[:8], self.size)
            self._thread = threading.Thread(target=self._run, name="stream-hasher", daemon=True)
            self._thread.start()
        self._inbox.put(block)

    def _run(self) -> None:
        try:
            self._result = hash_chunks(iter(self._inbox.get, _STOP), self.data_start)
        except BaseException as exc:
            self._error = exc
            while self._inbox.get() is not _STOP:  # keep the writer from blocking on a full queue
                pass

    def result(self) -> dict[str, str]:
        """The hashes of everything fed (see hash_chunks); raises what the hashing raised."""
        if self._thread is None:  # fewer than 8 bytes, or none
            head, self._head = self._head, b""
            self.data_start = guess_data_start(head, self.size)
            return hash_chunks(iter([head]), self.data_start)
        self._inbox.put(_STOP)
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error
        return self._result

    def close(self) -> None:
        """Stop the thread without a result (after a failed copy). Safe after result()."""
        if self._thread is not None:
            self._error = self._error or RuntimeError("closed")
            self._inbox.put(_STOP)
            self._thread.join()
            self._thread = None
