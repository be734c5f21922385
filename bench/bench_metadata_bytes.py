"""Bytes read to extract the metadata of a 1 GiB safetensors file, on local disk and on S3.

Writes a 1 GiB safetensors file (a kohya-style LoRA header with metadata, then tensor data), stores
it through the hub's storage, and runs the worker's inspection step (sniff + strict header parse +
detection) through models_app.storage.RangeReader, which counts the bytes fetched. The baseline is
the header itself (8 + N bytes, measured from the same file in the same run); the target (issue 4)
is header + at most 64 KiB.

    .venv/bin/python bench/bench_metadata_bytes.py [--size-mib 1024] [--storage local,s3]
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, hub_env, moto_server  # noqa: E402

CHILD = """
import json, os, struct, sys, django
django.setup()
from django.core.files import File
from models_app.storage import RangeReader, model_storage
from models_app.files.scanning import sniff_format
from models_app.files.safetensors import read_header
from models_app.files.detection import detect
path = sys.argv[1]
with open(path, "rb") as f:
    key = model_storage().save("bench/big.safetensors", File(f, name="big.safetensors"))
header_len = 8 + struct.unpack("<Q", open(path, "rb").read(8))[0]
with RangeReader(key) as f:
    kind = sniff_format(f.read(512))
    f.seek(0)
    header = read_header(f, f.size)
    detection = detect(header)
    print(json.dumps({"kind": kind, "fetched": f.bytes_fetched, "header": header_len, "size": f.size,
                      "type": detection.model_type, "base": detection.base_model,
                      "tensors": len(header.tensors)}))
"""


def write_file(path: Path, size: int) -> None:
    sys.path.insert(0, str(ROOT))
    from models_app.demo import make_safetensors

    metadata = {
        "ss_base_model_version": "sd_v1",
        "ss_network_module": "networks.lora",
        "ss_network_dim": "32",
        "ss_network_alpha": "16",
        "ss_network_args": "None",
        "ss_tag_frequency": json.dumps({"10_style": {f"tag{i}": i for i in range(300)}}),
    }
    count = 64
    per_tensor = (size // count) // 2 * 2
    names = [f"lora_unet_down_blocks_{i}_attentions_0_proj_in.lora_down.weight" for i in range(count)]
    # A header describing the tensors, with the bytes written separately so 1 GiB never sits in memory.
    header_only = make_safetensors(
        [(n, "F16", (per_tensor // 2,), b"") for n in names], metadata
    )  # offsets are fixed below
    import struct

    header = json.loads(header_only[8:].decode())
    offset = 0
    for name in names:
        header[name]["data_offsets"] = [offset, offset + per_tensor]
        offset += per_tensor
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    block = os.urandom(per_tensor)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for _ in names:
            f.write(block)


def run(storage: str, path: Path) -> dict:
    with contextlib.ExitStack() as stack:
        extra = stack.enter_context(moto_server()) if storage == "s3" else {}
        env = stack.enter_context(hub_env(extra))
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return {"storage": storage, **json.loads(out.stdout.strip().splitlines()[-1])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--storage", default="local,s3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.safetensors"
        write_file(path, args.size_mib * 1024 * 1024)
        print(f"bytes read to extract metadata from a {args.size_mib} MiB safetensors file")
        print(
            f"{'storage':8} {'header (8+N)':>13} {'bytes fetched':>14} {'extra':>9} {'fetched/header':>15} {'detected':>16}"
        )
        for storage in args.storage.split(","):
            r = run(storage, path)
            extra = r["fetched"] - r["header"]
            print(
                f"{r['storage']:8} {r['header']:>13,} {r['fetched']:>14,} {extra:>9,} "
                f"{r['fetched'] / r['header']:>14.2f}x {r['type'] + ' / ' + r['base']:>16}"
            )


if __name__ == "__main__":
    main()
