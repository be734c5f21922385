"""The hash set that tools use to find a file, checked against the vectors in docs/hashes.md."""

import hashlib
import io
import itertools
import random
import struct
import threading
import time
import zlib

import blake3
import pytest

from models_app.demo import make_safetensors
from models_app.files import hashing
from models_app.files.hashing import file_hashes, hash_chunks

F32 = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
T1 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4"})
T2 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4", "modelspec.title": "x"})
T3 = make_safetensors([("big", "U8", (0x200000,), bytes(i % 251 for i in range(0x200000)))])


def data_start(blob: bytes) -> int:
    return 8 + struct.unpack("<Q", blob[:8])[0]


VECTORS = {
    "T1": (
        T1,
        {
            "SHA256": "5EBD52F5D203F0C467764D70C22764C48DC0AFA011A10B9F1B5ED915831C5C0B",
            "AutoV2": "5EBD52F5D2",
            "AutoV1": "E3B0C442",
            "AutoV3": "AD73B9ACD6E4",
            "AutoV3_full": "AD73B9ACD6E4A74B2F5BB5386658CE3BB146CD040A1867646AB3B973FB6632B1",
            "CRC32": "BDF8D937",
            "BLAKE3": "93415E4F417FCD8D40625F0D5405A48BFEA47D0275523A82F3D8BB06C1340887",
        },
    ),
    "T2": (
        T2,
        {
            "SHA256": "6F2C86DBA83ABD51626852EB5FBDE0DDE2CA6CACFE04614575B1F2E8BA14B9AC",
            "AutoV2": "6F2C86DBA8",
            "AutoV1": "E3B0C442",
            "AutoV3": "AD73B9ACD6E4",
            "AutoV3_full": "AD73B9ACD6E4A74B2F5BB5386658CE3BB146CD040A1867646AB3B973FB6632B1",
            "CRC32": "95B41A21",
            "BLAKE3": "EA0991F752C283680464CA966468D0D7007A13D7D62ADCD6EA1E52B90AAFB542",
        },
    ),
    "T3": (
        T3,
        {
            "SHA256": "72C05E8D79FA8E93C508A751CDD48B3ED422C26C7E3A8BE6BF24C593A3C239A0",
            "AutoV2": "72C05E8D79",
            "AutoV1": "F59EAE63",
            "AutoV3": "1E075C8D478A",
            "AutoV3_full": "1E075C8D478AD21844E33E830A695EF03A4D2488B69EE275BD8947618BB1BE1E",
            "CRC32": "464179D9",
            "BLAKE3": "6FC00D267096C9CA7F70DACD8C3289C5D702219AA7C56AD7F7B53F302D1EDC4A",
        },
    ),
}


def test_vector_files_have_the_documented_layout():
    assert len(T1) == 120 and T1[:8].hex() == "6000000000000000"
    assert T1[-16:].hex() == "0000803f000000400000404000008040"
    assert (len(T2), len(T3)) == (144, 2_097_232)


@pytest.mark.parametrize("name", VECTORS)
def test_safetensors_vectors_give_every_documented_hash(name):
    blob, expected = VECTORS[name]
    assert file_hashes(io.BytesIO(blob), data_start=data_start(blob)) == expected


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1000, 65537])
def test_hashes_do_not_depend_on_the_chunk_size(chunk_size):
    blob, expected = VECTORS["T3"] if chunk_size > 1 else VECTORS["T1"]
    assert file_hashes(io.BytesIO(blob), data_start=data_start(blob), chunk_size=chunk_size) == expected


def test_plain_bytes_have_no_autov3():
    hashes = file_hashes(io.BytesIO(b"hello world"))
    assert hashes == {
        "SHA256": "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
        "AutoV1": "E3B0C442",
        "AutoV2": "B94D27B993",
        "CRC32": "0D4A1185",
        "BLAKE3": "D74981EFA70A0C880B8D8C1985D075DBCBF679B99A5F9914E5AAF96B831A9E24",
    }


def test_empty_file_hashes_to_the_empty_digests():
    hashes = file_hashes(io.BytesIO(b""))
    assert hashes["SHA256"] == "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    assert hashes["CRC32"] == "00000000"
    assert hashes["BLAKE3"] == "AF1349B9F5F9A1A6A0404DEA36DCC9499BCB25C9ADC112B7CC9A93CAE41F3262"


# --- One read, hashers in threads (hash_chunks and the threaded path of file_hashes) ---------------

IRREGULAR_SIZES = [1, 7, 0, 64, 1000, 65537, 3 << 20, 5, 1 << 20, 123_457, 9 << 20, 2]


def irregular_chunks(blob: bytes, sizes=IRREGULAR_SIZES):
    """blob cut at irregular places (empty chunks included), cycling through sizes."""
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(blob):
            return
        yield blob[pos : pos + size]
        pos += size


def reference_hashes(blob: bytes, data_start: int | None) -> dict[str, str]:
    """Straight from the definitions in docs/hashes.md, with hashlib, zlib and blake3 directly."""
    sha = hashlib.sha256(blob).hexdigest().upper()
    out = {
        "SHA256": sha,
        "AutoV1": hashlib.sha256(blob[0x100000:0x110000]).hexdigest().upper()[:8],
        "AutoV2": sha[:10],
        "CRC32": f"{zlib.crc32(blob):08X}",
        "BLAKE3": blake3.blake3(blob).hexdigest().upper(),
    }
    if data_start is not None:
        out["AutoV3_full"] = hashlib.sha256(blob[data_start:]).hexdigest().upper()
        out["AutoV3"] = out["AutoV3_full"][:12]
    return out


def hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hashing-")]


def big_safetensors(data_size: int, seed: int = 0) -> bytes:
    """A real safetensors layout with pseudo-random tensor data; the data starts at an odd offset."""
    raw = random.Random(seed).randbytes(data_size)
    return make_safetensors([("w", "U8", (data_size,), raw)], {"note": "x" * 13})


@pytest.fixture(scope="module")
def big() -> bytes:
    """40 MiB: well above PARALLEL_THRESHOLD, so the threaded path runs."""
    return big_safetensors(40 << 20)


@pytest.mark.parametrize("name", VECTORS)
def test_hash_chunks_with_irregular_chunks_equals_file_hashes(name):
    blob, expected = VECTORS[name]
    start = data_start(blob)
    assert hash_chunks(irregular_chunks(blob), data_start=start) == expected
    assert hash_chunks(irregular_chunks(blob), data_start=start) == file_hashes(io.BytesIO(blob), start)


def test_hash_chunks_of_a_big_stream_in_irregular_chunks_equals_file_hashes(big):
    start = data_start(big)
    expected = file_hashes(io.BytesIO(big), data_start=start)
    assert hash_chunks(irregular_chunks(big), data_start=start) == expected
    assert hash_chunks(irregular_chunks(big, [1024] * 50 + [5 << 20]), data_start=start) == expected
    assert hash_chunks([big], data_start=start) == expected  # one huge chunk
    assert hash_chunks(irregular_chunks(big)) == {k: v for k, v in expected.items() if "AutoV3" not in k}


def test_threaded_path_matches_a_straightforward_reference_computation(big):
    start = data_start(big)
    assert start % 8 == 0 and start > 8
    seen_threads: set[str] = set()

    def chunks():
        for i, chunk in enumerate(irregular_chunks(big, [(1 << 20) + 3, 5 << 20, 8 << 20, 4097])):
            if i == 6:  # well past the start-up buffer: the hasher threads must be running now
                seen_threads.update(t.name for t in hashing_threads())
            yield chunk

    expected = reference_hashes(big, start)
    assert hash_chunks(chunks(), data_start=start) == expected
    assert seen_threads == {"hashing-sha256-crc32", "hashing-autov3-blake3"}
    assert file_hashes(io.BytesIO(big), data_start=start) == expected
    assert file_hashes(io.BytesIO(big), data_start=start, chunk_size=65537) == expected
    assert file_hashes(io.BytesIO(big)) == reference_hashes(big, None)
    assert hashing_threads() == []


@pytest.mark.parametrize("start", [0, 5, 0x100000 - 3, 0x10FFFF, 0x110000 + 1, 4 << 20, (8 << 20) + 1])
def test_autov1_and_autov3_boundaries_in_the_threaded_path(monkeypatch, big, start):
    # Small blocks and an immediate switch to threads, so both windows straddle many block edges.
    monkeypatch.setattr(hashing, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(hashing, "CHUNK_SIZE", 50_000)
    monkeypatch.setattr(hashing, "PASS_THROUGH_SIZE", 70_000)
    blob = big[: 9 << 20]
    assert hash_chunks(irregular_chunks(blob), data_start=start) == reference_hashes(blob, start)


@pytest.mark.parametrize("name", VECTORS)
def test_vectors_through_the_threaded_path(monkeypatch, name):
    monkeypatch.setattr(hashing, "PARALLEL_THRESHOLD", 1)
    blob, expected = VECTORS[name]
    assert hash_chunks(irregular_chunks(blob), data_start=data_start(blob)) == expected
    assert file_hashes(io.BytesIO(blob), data_start=data_start(blob), chunk_size=1000) == expected


def test_reused_mutable_buffers_are_copied_before_hashing(big):
    def reused_buffer_chunks(blob, size):
        buf = bytearray(size)
        for pos in range(0, len(blob), size):
            piece = blob[pos : pos + size]
            buf[: len(piece)] = piece
            yield memoryview(buf)[: len(piece)]
            buf[:] = bytes(size)  # the caller overwrites its buffer as soon as the chunk is taken

    start = data_start(big)
    expected = reference_hashes(big, start)
    assert hash_chunks(reused_buffer_chunks(big, 3 << 20), data_start=start) == expected
    assert hash_chunks(reused_buffer_chunks(big, 100_000), data_start=start) == expected


def test_chunks_must_be_bytes_like():
    with pytest.raises(TypeError):
        hash_chunks(["not bytes"])


def test_an_error_in_the_chunk_iterator_propagates_and_stops_every_hasher_thread(big):
    before = set(threading.enumerate())
    consumed = []

    def failing_chunks():
        for i, chunk in enumerate(irregular_chunks(big, [2 << 20])):
            if i == 9:  # 18 MiB in: the threads are running and their queues hold blocks
                assert len(hashing_threads()) == 2
                raise OSError("connection reset by peer")
            consumed.append(len(chunk))
            yield chunk

    with pytest.raises(OSError, match="connection reset by peer"):
        hash_chunks(failing_chunks(), data_start=data_start(big))
    assert sum(consumed) == 18 << 20
    assert hashing_threads() == []
    assert set(threading.enumerate()) <= before


def test_an_error_in_a_hasher_thread_propagates_and_the_read_stops_early(monkeypatch, big):
    class FailingBlake3:
        def __init__(self):
            self.calls = 0

        def update(self, data):
            self.calls += 1
            if self.calls == 3:
                time.sleep(0.3)  # meanwhile the reader fills this hasher's queue and blocks on it
                raise MemoryError("blake3 gave up")

        def hexdigest(self):  # pragma: no cover - never reached
            return "0" * 64

    monkeypatch.setattr(hashing.blake3, "blake3", FailingBlake3)
    before = set(threading.enumerate())
    pulled = []
    outcome = []

    def chunks():
        for chunk in irregular_chunks(big, [1 << 20]):
            pulled.append(chunk)
            yield chunk

    def run():
        try:
            hash_chunks(chunks(), data_start=data_start(big))
        except BaseException as exc:
            outcome.append(exc)

    # In a thread of its own, so that a deadlock fails the test instead of hanging it.
    caller = threading.Thread(target=run, name="test-caller", daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert not caller.is_alive(), "hash_chunks hangs after a hasher failed"
    assert len(outcome) == 1 and isinstance(outcome[0], MemoryError)
    assert str(outcome[0]) == "blake3 gave up"
    # The reader noticed and stopped: it read at most the blocks that fit in the queues meanwhile.
    assert len(pulled) < 20
    assert hashing_threads() == []
    assert set(threading.enumerate()) <= before
