"""How many passes over the bytes a 1 GiB model costs on its way to `ready` (issue 18, part 4).

A private hub (its own var/, SQLite, the embedded filesystem broker) with a real Celery worker process
started the way `make run` starts it (bin/run-worker, both queues, 2 processes, beat), and gunicorn for
the API. The file is a safetensors file (a header laid out as models_app.demo.make_safetensors lays it
out, then random tensor data). In interleaved rounds it times:

    (a) plain sha256 of the file, in this process (the baseline), and a plain copy of it (1 MiB
        reads and writes, no hashing) next to the local hub's files: what writing 1 GiB through
        the page cache costs in the same run (on these VMs from 0.3 to 2.8 s: memory freed more
        than about 2 s before goes back to the host, which backs it again page by page when it
        is written; docs/performance.md#uploads-in-one-pass);
    (b) `manage.py import_models FILE --owner bench` until the file's row says ready; on local
        storage also with --move (b'), the hub taking a copy of the file made beside its own files
        before the clock starts (and written out to disk with sync, so its writing isn't counted):
        a rename, then the worker's one read;
    (c) an upload through the API (start, every part PUT in order, complete) until ready, with an
        API key as tools send it;
    (d) of (c), the time from the "complete" call to ready: the work after the last byte arrived;

on local storage and on S3 (a moto server), and the same (b) and (c) for a 1 KiB safetensors file:
their start-up (Django start-up of the command, requests, broker delay). The row's status is read
from the hub's SQLite database every 10 ms. Each case starts after a sync, with no other case's
writes waiting to reach the disk. Prints medians and the ratios (b), (c) and (d) to (a), also
with the start-up taken off. Asserts nothing.

    .venv/bin/python bench/bench_upload_pass.py [--size-mib 1024] [--rounds 3] [--storage local,s3]
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, VENV_BIN, gunicorn, hub_env, moto_server  # noqa: E402

PART = 16 * 1024 * 1024  # the hub's default UPLOAD_PART_SIZE
API_KEY: dict[str, str] = {}  # base URL -> the bench user's API key on that hub
AFTER_BYTES: list[float] = []  # the last upload's seconds from "complete" to ready


def write_safetensors(path: Path, data_size: int) -> None:
    """A valid safetensors file of one U8 tensor: make_safetensors' header layout, random data,
    written in 8 MiB blocks so the benchmark never holds the file in memory."""
    header = {"__metadata__": {"ss_base_model_version": "sdxl_base_v1-0"}}
    header["weight"] = {"dtype": "U8", "shape": [data_size], "data_offsets": [0, data_size]}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        left = data_size
        while left:
            block = os.urandom(min(left, 8 << 20))
            f.write(block)
            left -= len(block)


def plain_sha256(path: Path) -> float:
    t0 = time.perf_counter()
    with path.open("rb") as f:
        hashlib.file_digest(f, "sha256")
    return time.perf_counter() - t0


def plain_copy(path: Path, folder: Path) -> float:
    target = folder / "bench-copy.tmp"
    t0 = time.perf_counter()
    with path.open("rb") as f, target.open("wb") as g:
        while block := f.read(1 << 20):
            g.write(block)
    elapsed = time.perf_counter() - t0
    target.unlink()
    return elapsed


def wait_ready(env: dict, file_id: int, timeout: float = 900) -> None:
    db = sqlite3.connect(Path(env["VAR_DIR"]) / "hub.sqlite3", timeout=30)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = db.execute("SELECT status FROM models_app_modelfile WHERE id = ?", (file_id,)).fetchone()
            if row and row[0] not in ("uploading", "pending", "processing"):
                if row[0] != "ready":
                    raise RuntimeError(f"file {file_id} ended {row[0]}")
                return
            time.sleep(0.01)
        raise RuntimeError(f"file {file_id} not ready after {timeout} s")
    finally:
        db.close()


def import_to_ready(env: dict, path: Path, *options: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_models", str(path), "--owner", "bench", *options],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    line = json.loads(out.strip().splitlines()[-1])
    file_id = _file_id(env, line["version_id"])
    wait_ready(env, file_id)
    return time.perf_counter() - t0


def _file_id(env: dict, version_id: int) -> int:
    db = sqlite3.connect(Path(env["VAR_DIR"]) / "hub.sqlite3", timeout=30)
    try:
        return db.execute(
            "SELECT id FROM models_app_modelfile WHERE version_id = ?", (version_id,)
        ).fetchone()[0]
    finally:
        db.close()


def call(base: str, method: str, path: str, body=None):
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": "Bearer " + API_KEY[base], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        raw = response.read()
        return json.loads(raw) if raw else {}


def upload_to_ready(env: dict, base: str, path: Path) -> float:
    """The browser's steps, parts sent one after another; timed from the start call to ready."""
    model = call(base, "POST", "/api/hub/models", {"name": f"Bench {time.time()}", "type": "LORA"})
    version = call(
        base, "POST", f"/api/hub/models/{model['id']}/versions", {"name": "v1", "base_model": "Other"}
    )
    size = path.stat().st_size
    t0 = time.perf_counter()
    started = call(
        base, "POST", "/api/hub/uploads",
        {"version_id": version["id"], "filename": path.name, "size": size, "type": "Model"},
    )  # fmt: skip
    with path.open("rb") as f:
        for number, offset in enumerate(range(0, size, PART), start=1):
            url = call(base, "POST", f"/api/hub/uploads/{started['id']}/parts/{number}")["url"]
            data = f.read(min(PART, size - offset))
            request = urllib.request.Request(
                url if url.startswith("http") else base + url,
                data=data,
                method="PUT",
                headers={"Content-Type": "application/octet-stream"},
            )
            urllib.request.urlopen(request, timeout=600).close()
    t_sent = time.perf_counter()
    call(base, "POST", f"/api/hub/uploads/{started['id']}/complete")
    wait_ready(env, started["id"])
    t_ready = time.perf_counter()
    AFTER_BYTES.append(t_ready - t_sent)
    return t_ready - t0


@contextlib.contextmanager
def worker(env: dict):
    """The worker of `make run` (bin/run-dev): both queues, 2 processes, with beat."""
    process = subprocess.Popen(
        [str(ROOT / "bin" / "run-worker"), "--beat"],
        env={**env, "QUEUES": "heavy,light", "CONCURRENCY": "2", "VENV": str(VENV_BIN.parent)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextlib.contextmanager
def hub(storage: str):
    """env and base URL of a running hub (gunicorn + worker) on the given storage."""
    with contextlib.ExitStack() as stack:
        s3_env = stack.enter_context(moto_server()) if storage == "s3" else {}
        env = stack.enter_context(hub_env({**s3_env, "UPLOAD_PART_SIZE": str(PART)}))
        stack.enter_context(worker(env))
        _, base = stack.enter_context(gunicorn(env))
        # An API key, as tools send: HTTP Basic would run the password hash (PBKDF2, about 0.3 s
        # here) on every part's request and measure that instead of the upload.
        out = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "create_api_key", "bench"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        API_KEY[base] = out.strip().splitlines()[-1]
        yield env, base


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", default="local,s3")
    args = parser.parse_args()
    storages = args.storage.split(",")
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-upload-pass-") as folder, contextlib.ExitStack() as stack:
        big, tiny = Path(folder, "big.safetensors"), Path(folder, "tiny.safetensors")
        write_safetensors(big, args.size_mib * 1024 * 1024 - 128)
        write_safetensors(tiny, 1024)
        hubs = {storage: stack.enter_context(hub(storage)) for storage in storages}
        for env, base in hubs.values():  # warm up: imports, first queries, the S3 client
            import_to_ready(env, tiny)
            upload_to_ready(env, base, tiny)
        for _ in range(args.rounds):
            # Every case starts with no dirty pages waiting: the last case's writes, flushed by the
            # kernel in the background, would otherwise slow whichever case came next.
            os.sync()
            times.setdefault("sha256", []).append(plain_sha256(big))
            os.sync()
            times.setdefault("copy", []).append(
                plain_copy(big, Path(next(iter(hubs.values()))[0]["VAR_DIR"]))
            )
            for storage, (env, base) in hubs.items():
                for name, path in (("tiny", tiny), ("big", big)):
                    os.sync()
                    times.setdefault(f"import {storage} {name}", []).append(import_to_ready(env, path))
                    os.sync()
                    times.setdefault(f"upload {storage} {name}", []).append(upload_to_ready(env, base, path))
                    times.setdefault(f"after {storage} {name}", []).append(AFTER_BYTES[-1])
                    if storage == "local":
                        taken = Path(env["VAR_DIR"], f"taken-{name}.safetensors")
                        shutil.copyfile(path, taken)
                        os.sync()
                        times.setdefault(f"move {storage} {name}", []).append(
                            import_to_ready(env, taken, "--move")
                        )
    med = {k: statistics.median(v) for k, v in times.items()}
    a = med["sha256"]
    print(f"{args.size_mib} MiB safetensors, median of {args.rounds} interleaved rounds")
    print(
        f"(a) plain sha256: {a:.2f} s; a plain copy of the file: {med['copy']:.2f} s ({med['copy'] / a:.2f}x)"
    )
    print(f"{'':26} {'big s':>7} {'tiny s':>7} {'big/(a)':>8} {'(big-tiny)/(a)':>15}")
    kinds = (
        ("import", "(b) import"), ("move", "(b') import --move"), ("upload", "(c) upload"),
        ("after", "(d) complete->ready"),
    )  # fmt: skip
    for kind, label in kinds:
        for storage in storages:
            if f"{kind} {storage} big" not in med:
                continue
            big_s, tiny_s = med[f"{kind} {storage} big"], med[f"{kind} {storage} tiny"]
            print(
                f"{label + ' ' + storage:26} {big_s:7.2f} {tiny_s:7.2f} {big_s / a:7.2f}x "
                f"{(big_s - tiny_s) / a:14.2f}x"
            )


if __name__ == "__main__":
    main()
