"""Benchmark: the full hash set in one threaded pass against plain sha256 and the one-thread loop.

    cd /work/main && .venv/bin/python bench/bench_hashing.py [--size-mib 1024] [--repeat 3] [--path FILE]

Creates a safetensors file (a models_app.demo.make_safetensors header, then pseudo-random tensor data
written 8 MiB at a time, so creating it needs no more memory than that) in a temporary directory,
or at --path (kept; an existing file there is used as it is). It reads the file once to warm the page
cache, then measures in the same run, interleaved, each over --repeat runs (median reported):

  (a) baseline: plain hashlib.sha256 over the file in 8 MiB chunks
  (b) models_app.files.hashing.file_hashes: the full set, hashers in threads
  (c) the full set in one thread: one loop updating every hasher (the old way)
  (d) models_app.files.hashing.hash_chunks fed 1 MiB chunks, as from S3 (informational)

and the peak RSS growth of (b): ru_maxrss of a child process that imports hashing and runs
file_hashes, minus that of an idle child that imports the same modules. It prints numbers and
asserts nothing. The targets from the issue are (b) <= 1.35x (a) and RSS growth <= 128 MiB.
No Django settings needed: models_app.files.hashing and models_app.demo don't import Django.
"""

import argparse
import hashlib
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import blake3

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from models_app.demo import make_safetensors  # noqa: E402
from models_app.files.hashing import file_hashes, hash_chunks  # noqa: E402

MIB = 1 << 20
BLOCK = 8 * MIB
TARGET_RATIO = 1.35
TARGET_RSS_MIB = 128


class _Sized(bytes):
    """An empty bytes object that reports a length: lets make_safetensors write the header for
    tensors of any size (it takes len() of each tensor's bytes) while joining no data at all."""

    def __new__(cls, size: int):
        obj = super().__new__(cls)
        obj.size = size
        return obj

    def __len__(self) -> int:
        return self.size


def create_file(path: Path, data_mib: int) -> None:
    """A safetensors file: F16 tensors of 8 MiB (the last may be smaller), pseudo-random data."""
    data_size = data_mib * MIB
    tensors, offset, i = [], 0, 0
    while offset < data_size:
        size = min(BLOCK, data_size - offset)
        tensors.append((f"model.layers.{i}.weight", "F16", (size // 2,), _Sized(size)))
        offset, i = offset + size, i + 1
    header = make_safetensors(tensors, {"format": "pt", "bench": "bench_hashing.py"})
    assert len(header) == 8 + struct.unpack("<Q", header[:8])[0], "make_safetensors joined data"
    rng = blake3.blake3(b"bench_hashing")  # as an extendable-output function: fast pseudo-random bytes
    with open(path, "wb") as f:
        f.write(header)
        for pos in range(0, data_size, BLOCK):
            f.write(rng.digest(length=min(BLOCK, data_size - pos), seek=pos))


def safetensors_data_start(path: Path) -> int | None:
    """8 + N if the file starts like a safetensors file, else None (AutoV3 is then not computed)."""
    with open(path, "rb") as f:
        head = f.read(9)
        if len(head) < 9:
            return None
        n = struct.unpack("<Q", head[:8])[0]
        if head[8:9] != b"{" or 8 + n > os.path.getsize(path):
            return None
        return 8 + n


def read_all(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(BLOCK):
            pass


def plain_sha256(path: Path, _data_start: int | None) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            sha.update(block)
    return sha.hexdigest().upper()


def threaded(path: Path, data_start: int | None) -> dict[str, str]:
    with open(path, "rb") as f:
        return file_hashes(f, data_start=data_start)


def one_thread(path: Path, data_start: int | None) -> dict[str, str]:
    """The old way (docs/hashes.md#computing-them-in-one-pass): one loop, every hasher in turn, AutoV1 collected in the pass."""
    sha, v3, b3, v1, crc, pos = hashlib.sha256(), hashlib.sha256(), blake3.blake3(), hashlib.sha256(), 0, 0
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            end = pos + len(block)
            sha.update(block)
            b3.update(block)
            crc = zlib.crc32(block, crc)
            if data_start is not None and end > data_start:
                v3.update(block[max(0, data_start - pos) :])
            lo, hi = max(pos, 0x100000), min(end, 0x110000)
            if lo < hi:
                v1.update(block[lo - pos : hi - pos])
            pos = end
    s = sha.hexdigest().upper()
    out = {
        "SHA256": s,
        "AutoV1": v1.hexdigest().upper()[:8],
        "AutoV2": s[:10],
        "CRC32": f"{crc:08X}",
        "BLAKE3": b3.hexdigest().upper(),
    }
    if data_start is not None:
        out["AutoV3_full"] = v3.hexdigest().upper()
        out["AutoV3"] = out["AutoV3_full"][:12]
    return out


def s3_like(path: Path, data_start: int | None) -> dict[str, str]:
    with open(path, "rb") as f:
        return hash_chunks(iter(lambda: f.read(MIB), b""), data_start=data_start)


# The child processes for the RSS figure: both import the same modules; only one hashes.
CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[1])
import blake3, hashlib, queue, threading, zlib
from models_app.files.hashing import file_hashes
if sys.argv[2] == "hash":
    data_start = None if sys.argv[4] == "-" else int(sys.argv[4])
    with open(sys.argv[3], "rb") as f:
        file_hashes(f, data_start=data_start)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def child_maxrss_kib(mode: str, path: Path, data_start: int | None) -> int:
    """ru_maxrss of a fresh child, in KiB.

    Linux carries ru_maxrss over fork and exec: a child spawned straight from this process reports at
    least this process's own peak (tens of MiB after the runs above). So the child is started by
    a shell that must fork first (the `; exit` stops it from exec'ing in place); the Python child
    then inherits only the small shell's figure.
    """
    child = [
        sys.executable,
        "-c",
        CHILD,
        str(REPO),
        mode,
        str(path),
        "-" if data_start is None else str(data_start),
    ]
    args = ["/bin/sh", "-c", '"$@"; exit $?', "sh", *child]
    return int(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", type=Path, help="file to hash; created (and kept) if it does not exist")
    parser.add_argument("--size-mib", type=int, default=1024, help="tensor data size of a created file")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_hashing-") as tmp:
        path = opts.path or Path(tmp) / "bench.safetensors"
        if not path.exists():
            t = time.perf_counter()
            create_file(path, opts.size_mib)
            print(f"created {path} in {time.perf_counter() - t:.1f} s")
        size = path.stat().st_size
        data_start = safetensors_data_start(path)
        t = time.perf_counter()
        read_all(path)
        read_s = time.perf_counter() - t
        print(
            f"file: {size:,} bytes ({size / MIB:.0f} MiB), "
            f"{'safetensors, data at ' + str(data_start) if data_start else 'not safetensors: no AutoV3'}"
        )
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )
        print(f"warm-up read: {read_s:.2f} s; {opts.repeat} runs each, interleaved; median (min)\n")

        cases = [
            ("(a) plain sha256, 8 MiB chunks", plain_sha256),
            ("(b) file_hashes, threaded", threaded),
            ("(c) full set, one thread", one_thread),
            ("(d) hash_chunks, 1 MiB chunks", s3_like),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in cases}
        results = {}
        for _ in range(opts.repeat):
            for name, fn in cases:
                t = time.perf_counter()
                results[name] = fn(path, data_start)
                times[name].append(time.perf_counter() - t)

        base = statistics.median(times[cases[0][0]])
        print(f"{'case':34} {'seconds':>15} {'GiB/s':>7} {'x sha256':>9}")
        for name, _ in cases:
            med = statistics.median(times[name])
            print(
                f"{name:34} {med:7.3f} ({min(times[name]):5.3f}) {size / med / (1 << 30):7.2f} {med / base:8.2f}x"
            )

        full = [results[name] for name, _ in cases[1:]]
        same = all(r == full[0] for r in full) and full[0]["SHA256"] == results[cases[0][0]]
        print(f"\nall cases give the same hashes: {'yes' if same else 'NO'}")
        for key, value in full[0].items():
            print(f"  {key:12} {value}")

        idle = child_maxrss_kib("idle", path, data_start)
        busy = child_maxrss_kib("hash", path, data_start)
        growth = (busy - idle) / 1024
        print(
            f"\npeak RSS, child processes: idle (imports only) {idle / 1024:.1f} MiB, "
            f"file_hashes {busy / 1024:.1f} MiB, growth {growth:.1f} MiB"
        )
        ratio = statistics.median(times[cases[1][0]]) / base
        print(
            f"targets: (b) <= {TARGET_RATIO}x sha256: {ratio:.2f}x {'met' if ratio <= TARGET_RATIO else 'NOT met'}; "
            f"RSS growth <= {TARGET_RSS_MIB} MiB: {growth:.1f} MiB {'met' if growth <= TARGET_RSS_MIB else 'NOT met'}"
        )
        print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
