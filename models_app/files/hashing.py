"""The six hashes tools use to find a model file (docs/hashes.md), computed in one read.

The bytes are read once, front to back. Above a small size the CPU-heavy hashers run in two worker
threads, one per core here (hashlib, zlib-ng and blake3 release the GIL on large buffers). Both are fed
the same block objects through their own bounded queue, so the two SHA-256 streams of a safetensors
file run at the same time and memory stays at a few blocks whatever the file size:

    reader (caller's thread) -+-> [queue] --> sha256 + crc32              (SHA256, AutoV2, CRC32)
                              +-> [queue] --> AutoV3's sha256 + blake3    (AutoV3, BLAKE3)

Without AutoV3 (not safetensors) the split is sha256 | crc32 + blake3, again about even.
The reader itself also hashes AutoV1's 64 KiB window, which is too small to be worth a thread.
StreamHasher feeds the same lanes from a writer's pushes; a pushed block may be a view of a buffer
the writer reuses once both lanes have let go of it (Holders).
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


class _Joiner:
    """Joins runs of chunks smaller than PASS_THROUGH_SIZE into blocks of about CHUNK_SIZE, so the
    hashing queues see few, big items (hash_chunks' _blocks and StreamHasher both use it)."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> list[bytes]:
        """Keep a small chunk; the joined block once there is enough, else nothing."""
        if not chunk:
            return []
        self._pending.append(chunk)
        self._size += len(chunk)
        return self.flush() if self._size >= CHUNK_SIZE else []

    def flush(self) -> list[bytes]:
        """What is kept, joined (nothing if nothing is): before a big chunk, and at the end."""
        if not self._pending:
            return []
        joined = b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        return [joined]


def _blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk a stream of bytes blocks of any sizes into immutable blocks worth queueing.

    Chunks of PASS_THROUGH_SIZE or more pass through (no copy); runs of smaller ones are joined into
    blocks of about CHUNK_SIZE. Anything that is not bytes (bytearray, memoryview: a reused buffer, perhaps) is copied, because
    the hashers read it later from other threads. Empty chunks are skipped.
    """
    joiner = _Joiner()
    for chunk in chunks:
        if type(chunk) is not bytes:
            chunk = memoryview(chunk).tobytes()  # a private copy; also TypeError for non-buffers
        if len(chunk) >= PASS_THROUGH_SIZE:
            yield from joiner.flush()
            yield chunk
        else:
            yield from joiner.add(chunk)
    yield from joiner.flush()


def _worker(inbox: queue.Queue, updates: list[tuple[Callable, bool]], errors: list[BaseException]) -> None:
    """Feed each queued (block, data, let_go) to this thread's hashers until the sentinel; let_go
    (when not None) tells the block's owner this lane is done with it.

    After any failure, here, in the feeder or in the other worker, keep draining the queue without
    hashing, so the feeder never blocks on a full queue; the feeder sees `errors` and stops early.
    """
    while True:
        item = inbox.get()
        if item is _STOP:
            return
        block, data, let_go = item
        if not errors:
            try:
                _feed(updates, block, data)
            except BaseException as exc:  # handed to the feeder's thread and re-raised there
                errors.append(exc)
        if let_go is not None:
            let_go()
        del item, block, data  # hold no block while waiting for the next one


def _feed(updates: list[tuple[Callable, bool]], block: bytes, data: memoryview | bytes | None) -> None:
    """updates holds (update, takes_data) pairs: takes_data hashers (AutoV3) get only the tensor data
    part of the block (None before the data starts), the others the whole block."""
    for update, takes_data in updates:
        if not takes_data:
            update(block)
        elif data is not None:
            update(data)


class Holders:
    """Runs on_free once each of `count` holders of a shared buffer has let go, from whichever thread
    lets go last (the hashing lanes here; storage.write_local_object's writer and hashing)."""

    __slots__ = ("_count", "_lock", "_on_free")

    def __init__(self, count: int, on_free: Callable[[], None]) -> None:
        self._count, self._on_free, self._lock = count, on_free, threading.Lock()

    def let_go(self) -> None:
        with self._lock:
            self._count -= 1
            last = self._count == 0
        if last:
            self._on_free()


class _Lanes:
    """The two hashing threads, one per core here (per GiB: sha256 0.71 s, blake3 0.21 s, crc32
    0.06 s with zlib-ng, reading 0.12 s). For a 1 GiB safetensors file in the page cache this split
    measured 1.15-1.17x plain sha256 (bench/bench_hashing.py, 2026-12-05; 1.17-1.27x with zlib's
    crc32, against 1.26-1.29x for one thread per hasher); 1 MiB blocks keep it there on a busy machine.

    put() blocks in order from one thread, then finish() for the hashes, or abort(). No thread
    outlives finish() or abort(), whatever failed.
    """

    def __init__(self, state: _Hashes) -> None:
        self.state = state
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
        self.errors: list[BaseException] = []
        self._inboxes: list[queue.Queue] = []
        self._threads: list[threading.Thread] = []
        try:
            for name, updates in lanes:
                inbox: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
                thread = threading.Thread(
                    target=_worker, args=(inbox, updates, self.errors), name=name, daemon=True
                )
                thread.start()
                self._inboxes.append(inbox)
                self._threads.append(thread)
        except BaseException:
            self.abort()
            raise

    def put(self, block, done: Callable[[], None] | None = None) -> None:
        """Queue the next block to both lanes (waiting while they are full). After a lane failed the
        block is not hashed, done() still runs, and finish() raises the failure."""
        let_go = Holders(len(self._inboxes), done).let_go if done is not None else None
        item = (block, self.state.advance(block), let_go)
        for inbox in self._inboxes:
            inbox.put(item)

    def finish(self) -> dict[str, str]:
        self._stop()
        worker_errors = [e for e in self.errors if not isinstance(e, _FeederFailed)]
        if worker_errors:
            raise worker_errors[0]
        return self.state.result()

    def abort(self) -> None:
        """Stop without a result (the feeder failed): what is still queued is let go unhashed."""
        self.errors.append(_FeederFailed())
        self._stop()

    def _stop(self) -> None:
        for inbox in self._inboxes:
            inbox.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._inboxes, self._threads = [], []


class _FeederFailed(Exception):
    """Marker put in the shared error list when the feeder gave up; never escapes this module."""


def _hash_parallel(state: _Hashes, blocks: Iterable[bytes]) -> dict[str, str]:
    lanes = _Lanes(state)
    try:
        for block in blocks:
            lanes.put(block)
            del block  # hold no reference while waiting for the next block
            if lanes.errors:
                break
    except BaseException:
        lanes.abort()
        raise
    return lanes.finish()


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
    update(block) in order, then result(). Big blocks go straight to hash_chunks' two lanes (small
    ones are joined first), so the writer only queues them. AutoV3's start is guessed from the first
    8 bytes (guess_data_start); `data_start` holds the guess once made.

    update(block, done) takes a view of a buffer its owner will reuse: the block is hashed where it
    lies, and done() runs once nothing reads it any more (from a hashing thread, or before update
    returns). Without done, a block that is not bytes is copied first.

    Bytes must be fed exactly once, front to back; `fed` counts them so callers can check. close()
    without result() (the copy failed) stops the threads and lets go of what is queued.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.fed = 0
        self.data_start: int | None = None
        self._head = b""  # the first bytes, until there are 8 to read the header length from
        self._state: _Hashes | None = None
        self._lanes: _Lanes | None = None  # None for a file small enough to hash in this thread
        self._small = _Joiner()  # blocks under PASS_THROUGH_SIZE, joined before they are queued

    def update(self, block, done: Callable[[], None] | None = None) -> None:
        if done is None and type(block) is not bytes:
            block = memoryview(block).tobytes()  # the hashing threads read it later
        self.fed += len(block)
        if self._state is None:
            if self._head or len(block) < 8:
                self._head += bytes(block)
                if done is not None:
                    done()
                if len(self._head) < 8 and self.fed < self.size:
                    return
                block, done, self._head = self._head, None, b""
            self._begin(bytes(block[:8]))
        self._push(block, done)

    def _begin(self, first_bytes: bytes) -> None:
        self.data_start = guess_data_start(first_bytes, self.size)
        self._state = _Hashes(self.data_start)
        if self.size >= PARALLEL_THRESHOLD:
            self._lanes = _Lanes(self._state)

    def _push(self, block, done: Callable[[], None] | None) -> None:
        if self._lanes is None:
            self._state.update_all(block)
        elif len(block) >= PASS_THROUGH_SIZE:
            self._put_all(self._small.flush())
            self._lanes.put(block, done)
            return
        else:
            self._put_all(self._small.add(bytes(block)))
        if done is not None:
            done()

    def _put_all(self, blocks: list[bytes]) -> None:
        for block in blocks:
            self._lanes.put(block)

    def result(self) -> dict[str, str]:
        """The hashes of everything fed (see hash_chunks); raises what the hashing raised."""
        if self._state is None:  # fewer than 8 bytes, or none
            head, self._head = self._head, b""
            self._begin(head[:8])
            self._push(head, None)
        if self._lanes is None:
            return self._state.result()
        try:
            self._put_all(self._small.flush())
        except BaseException:
            self.close()
            raise
        lanes, self._lanes = self._lanes, None
        return lanes.finish()

    def close(self) -> None:
        """Stop the threads without a result (after a failed copy). Safe after result()."""
        if self._lanes is not None:
            self._lanes.abort()
            self._lanes = None
