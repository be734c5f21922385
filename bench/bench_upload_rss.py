"""Memory of the web process while a 2 GiB upload goes through the hub's multipart API.

For each storage (S3 through a moto server, and local disk through the hub's own part endpoint) it
starts a private hub under gunicorn (one worker), uploads a file of --size-mib in 16 MiB parts with
the same API the browser uses, and samples the gunicorn worker's RSS. Baseline: the RSS of the same
worker just before the upload, after a 1 MiB warm-up upload, in the same run. Target (issue 4): growth of at most 64 MiB.

    .venv/bin/python bench/bench_upload_rss.py [--size-mib 2048] [--storage s3,local]
"""

import argparse
import base64
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import RssSampler, child_pids, gunicorn, hub_env, mib, moto_server  # noqa: E402

PART = 16 * 1024 * 1024
AUTH = "Basic " + base64.b64encode(b"bench:bench-password").decode()


def call(base: str, method: str, path: str, body=None):
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": AUTH, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        raw = response.read()
        return json.loads(raw) if raw else {}


def upload(base: str, size: int) -> float:
    model = call(base, "POST", "/api/hub/models", {"name": f"Bench {time.time()}", "type": "Other"})
    version = call(
        base, "POST", f"/api/hub/models/{model['id']}/versions", {"name": "v1", "base_model": "Other"}
    )
    started = call(
        base, "POST", "/api/hub/uploads",
        {"version_id": version["id"], "filename": "big.txt", "size": size, "type": "Other"},
    )  # fmt: skip
    block = os.urandom(PART)
    t0 = time.perf_counter()
    for number, offset in enumerate(range(0, size, PART), start=1):
        url = call(base, "POST", f"/api/hub/uploads/{started['id']}/parts/{number}")["url"]
        data = block[: min(PART, size - offset)]
        request = urllib.request.Request(
            url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        urllib.request.urlopen(request, timeout=600).close()
    result = call(base, "POST", f"/api/hub/uploads/{started['id']}/complete")
    assert result["status"] == "pending", result
    return time.perf_counter() - t0


def run(storage: str, size: int) -> dict:
    if storage == "s3":
        with moto_server() as s3_env, hub_env(s3_env) as env:
            return measure(env, size, storage)
    with hub_env() as env:
        return measure(env, size, storage)


def measure(env: dict, size: int, storage: str) -> dict:
    env = {**env, "UPLOAD_PART_SIZE": str(PART)}
    with gunicorn(env) as (process, base):
        call(base, "GET", "/healthz")
        workers = child_pids(process.pid)
        upload(base, 1024 * 1024)  # warm the worker: imports, the S3 client, first queries
        with RssSampler(workers) as sampler:
            baseline = sampler.current()
            seconds = upload(base, size)
        return {
            "storage": storage,
            "baseline": baseline,
            "peak": sampler.peak,
            "growth": sampler.peak - baseline,
            "mb_per_s": size / seconds / 1e6,
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--storage", default="s3,local")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    print(f"web process RSS during a {args.size_mib} MiB multipart upload (gunicorn, 1 worker, 16 MiB parts)")
    print(
        f"{'storage':8} {'baseline RSS':>13} {'peak RSS':>10} {'growth':>10} {'growth/target':>14} {'upload MB/s':>12}"
    )
    for storage in args.storage.split(","):
        r = run(storage, size)
        print(
            f"{r['storage']:8} {mib(r['baseline']):>13} {mib(r['peak']):>10} {mib(r['growth']):>10} "
            f"{r['growth'] / (64 * 1024**2):>13.2f}x {r['mb_per_s']:>12.0f}"
        )


if __name__ == "__main__":
    main()
