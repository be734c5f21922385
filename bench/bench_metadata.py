"""Generation-metadata parse time and peak memory for a 50 MB PNG whose text sits after the image data.

Writes a PNG of random pixels (incompressible, so about 50 MB for 4096 x 4096 RGB) with an A1111
`parameters` tEXt chunk between the last IDAT and IEND, where Pillow finds it only after decoding every
pixel. Then, each case in a fresh child process (median of --repeat runs, interleaved):

  (a) baseline: Pillow's own `Image.open(f)`, `load()`, `.text["parameters"]`
  (b) hub: `models_app.files.genmeta.read_generation_metadata(f)` (our chunk walker: seeks over IDAT)

Memory: the tracemalloc peak (Python allocations) in one run, and the peak RSS growth of the child
(VmHWM after minus VmHWM before, from /proc; a fresh process so nothing is inherited), which also
counts Pillow's C buffers that tracemalloc does not see.

    .venv/bin/python bench/bench_metadata.py [--size-mib 50] [--repeat 5]

No Django settings are needed: it imports only `models_app.files`.
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INFOTEXT = (
    "masterpiece, 1girl, <lora:detail:0.8>\nNegative prompt: lowres, bad hands\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 4096x4096, Model hash: 5ebd52f5d2, "
    'Model: tiny, Lora hashes: "detail: ad73b9acd6e4", Version: v1.10.1'
)

CHILD = """
import json, sys, time, tracemalloc
sys.path.insert(0, sys.argv[3])

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

from PIL import Image
from models_app.files import genmeta
Image.MAX_IMAGE_PIXELS = None  # the baseline is Pillow as shipped, minus the bomb guard for this size

def pillow(f):
    with Image.open(f) as im:
        im.load()
        return im.text["parameters"]

def hub(f):
    return genmeta.read_generation_metadata(f).meta["prompt"]

case, path = sys.argv[1], sys.argv[2]
run = {"pillow": pillow, "hub": hub}[case]
with open(path, "rb") as f:
    before = hwm()
    started = time.perf_counter()
    found = run(f)
    elapsed = time.perf_counter() - started
    grown = hwm() - before
    f.seek(0)
    tracemalloc.start()
    run(f)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
print(json.dumps({"seconds": elapsed, "rss_growth": grown, "traced_peak": peak, "found": bool(found)}))
"""


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, size: int) -> None:
    """Random RGB rows, square, about `size` bytes of IDAT in 64 KiB chunks; the text chunk after IDAT."""
    side = int((size / 3) ** 0.5)
    packer = zlib.compressobj(1)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
        for y in range(0, side, 256):
            rows = b"".join(b"\0" + os.urandom(side * 3) for _ in range(min(256, side - y)))
            data = packer.compress(rows)
            for start in range(0, len(data), 65536):  # 64 KiB IDAT chunks, as Pillow writes them
                out.write(chunk(b"IDAT", data[start : start + 65536]))
        out.write(chunk(b"IDAT", packer.flush()))
        out.write(chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode("latin-1")))
        out.write(chunk(b"IEND", b""))


def measure(case: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["found"], f"{case} did not find the text"
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=float, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.png"
        write_png(path, int(args.size_mib * 1024 * 1024))
        path.read_bytes()  # warm the page cache
        runs: dict[str, list[dict]] = {"pillow": [], "hub": []}
        for _ in range(args.repeat):
            for case in runs:
                runs[case].append(measure(case, path))
        size = path.stat().st_size
    print(f"generation metadata of a {size / 2**20:.1f} MiB PNG, text after IDAT; median of {args.repeat}")
    print(f"{'case':28} {'time':>10} {'RSS growth':>12} {'traced peak':>12}")
    medians = {}
    for case, label in (("pillow", "(a) Pillow open+load+.text"), ("hub", "(b) read_generation_metadata")):
        rows = runs[case]
        medians[case] = {key: statistics.median(r[key] for r in rows) for key in rows[0] if key != "found"}
        m = medians[case]
        print(
            f"{label:28} {m['seconds'] * 1000:>8.2f}ms {m['rss_growth'] / 2**20:>8.1f} MiB "
            f"{m['traced_peak'] / 1024:>8.1f} KiB"
        )
    a, b = medians["pillow"], medians["hub"]
    print(
        f"ratio (b)/(a): time {b['seconds'] / a['seconds']:.4f}x, "
        f"RSS growth {b['rss_growth'] / max(a['rss_growth'], 1):.4f}x, "
        f"traced peak {b['traced_peak'] / max(a['traced_peak'], 1):.4f}x"
    )


if __name__ == "__main__":
    main()
