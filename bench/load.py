"""The catalog under load: 200 concurrent visitors (locust) against gunicorn on a 100k-model catalog.

    .venv/bin/python bench/load.py                                   # hub_bench on 127.0.0.1, 200 users, 60 s
    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/hub_bench \\
        --var-dir var/bench-load --models 100000 --users 200 --duration 60

On a PostgreSQL database (created if missing) it migrates, seeds the demo content (`seed_demo`: the
versions with real file bytes that visitors download) and a synthetic catalog of --models models
(`seed_catalog`), unless the database already holds that many: a second run reuses the catalog. Then
it starts gunicorn as `make run` does (hub/gunicorn_conf.py: 2 workers of 8 threads, DEBUG off) with
bench.settings_bench, runs locust headless (bench/locustfile.py: browsing, searching, model pages,
downloads, and the baseline view in the same mix), and prints per page: requests, errors, requests per
second, p50 and p95, and p50/p95 as multiples of the baseline measured in the same run; also the most
connections the web process held (pg_stat_activity).

Downloads come from one address, so DOWNLOAD_RATE_LIMIT is turned off for the run. Locust runs on the
same 2 cores as the server and takes a good share of one: compare figures of one run, not absolute
numbers.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, VENV_BIN, environ_without, free_port, wait_http  # noqa: E402

APP = "hub-load-bench"  # application_name of the web process's connections
WORDS = ["watercolor", "anime", "dragon", "portrait", "cyberpunk", "castle", "pixel art", "neon",
         "landscape", "robot", "fantasy", "cat", "samurai", "ghibli", "photoreal", "vintage",
         "forest", "armor", "mermaid", "steampunk", "lora", "sdxl", "pony", "flux", "dreamy"]  # fmt: skip


def admin_url(database_url: str) -> tuple[str, str]:
    """(URL of the postgres maintenance database, name of the target database)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres", query="")), parts.path.lstrip("/")


def prepare(database_url: str, env: dict, models: int) -> None:
    admin, name = admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    with psycopg.connect(database_url) as conn:
        have = conn.execute(
            "SELECT count(*) FROM models_app_aimodel m JOIN auth_user u ON u.id = m.owner_id"
            " WHERE u.username ~ '^creator[0-9]+$'"
        ).fetchone()[0]
        demo = conn.execute("SELECT count(*) FROM auth_user WHERE username = 'demo'").fetchone()[0]
    if not demo:
        subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    if have < models:
        started = time.monotonic()
        force = ["--force"] if have else []
        subprocess.run([*manage, "seed_catalog", "--models", str(models - have), *force], env=env, cwd=ROOT,
                       check=True)  # fmt: skip
        print(f"seeded {models - have} models in {time.monotonic() - started:.0f} s")
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # else the first requests also set hint bits
    else:
        print(f"reusing the catalog of {have} seeded models")


def targets(database_url: str) -> dict:
    with psycopg.connect(database_url) as conn:
        models = conn.execute(
            "SELECT id, slug FROM models_app_aimodel WHERE status = 'published' AND nsfw_level <= 2"
            " ORDER BY random() LIMIT 5000"
        ).fetchall()
        versions = conn.execute(
            "SELECT DISTINCT v.id FROM models_app_modelversion v JOIN models_app_modelfile f ON f.version_id = v.id"
            " JOIN models_app_aimodel m ON m.id = v.model_id JOIN auth_user u ON u.id = m.owner_id"
            " WHERE v.status = 'published' AND f.status = 'ready' AND u.username = 'demo'"
        ).fetchall()
    if not versions:
        raise SystemExit("no downloadable demo version: run seed_demo with the same --var-dir")
    return {"models": [list(row) for row in models], "versions": [row[0] for row in versions], "words": WORDS}


def sample_connections(database_url: str, stop: threading.Event, peak: list[int]) -> None:
    _, name = admin_url(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.is_set():
            n = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                [name, APP],
            ).fetchone()[0]
            peak[0] = max(peak[0], n)
            time.sleep(0.5)


def report(stats_csv: Path, baseline: str = "baseline") -> int:
    rows = {row["Name"]: row for row in csv.DictReader(stats_csv.open())}
    base = rows[baseline]
    b50, b95 = float(base["50%"]), float(base["95%"])
    header = f"{'page':<14} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p50 x':>6} {'p95 x':>6}"
    print(header)
    print("-" * len(header))
    errors = 0
    order = [name for name in rows if name not in (baseline, "Aggregated")]
    for name in [baseline, *sorted(order), "Aggregated"]:
        row = rows[name]
        p50, p95 = float(row["50%"]), float(row["95%"])
        errors += int(row["Failure Count"]) if name != "Aggregated" else 0
        print(
            f"{name:<14} {row['Request Count']:>9} {row['Failure Count']:>7} {float(row['Requests/s']):>7.1f} "
            f"{p50:>7.0f} {p95:>7.0f} {p50 / b50:>6.1f} {p95 / b95:>6.1f}"
        )
    return errors


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/hub_bench")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench-load"), help="files and secret key")
    parser.add_argument("--models", type=int, default=100_000, help="seed the catalog up to this many")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=50, help="users started per second")
    parser.add_argument("--duration", type=int, default=60, help="seconds measured once every user runs")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (threads: hub/gunicorn_conf.py)"
    )
    args = parser.parse_args(argv)

    parts = urlsplit(args.database_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load benchmark seeds and hammers a database: loopback only")
    Path(args.var_dir).mkdir(parents=True, exist_ok=True)
    env = environ_without("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
    env.update(
        DATABASE_URL=args.database_url,
        VAR_DIR=str(Path(args.var_dir).resolve()),
        DJANGO_SETTINGS_MODULE="hub.settings",
    )
    prepare(args.database_url, env, args.models)

    port = free_port()
    sep = "&" if parts.query else "?"
    web_env = {
        **env,
        "DATABASE_URL": f"{args.database_url}{sep}application_name={APP}",
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DOWNLOAD_RATE_LIMIT": "0",
    }
    web = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", "hub/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "hub.wsgi:application"],
        env=web_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stop, peak = threading.Event(), [0]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")
        with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
            target_file = Path(tmp) / "targets.json"
            target_file.write_text(json.dumps(targets(args.database_url)))
            sampler = threading.Thread(target=sample_connections, args=(args.database_url, stop, peak))
            sampler.start()
            ramp = int(args.users / args.spawn_rate) + 1
            print(
                f"gunicorn with {args.workers} workers at {base}; locust: {args.users} users, "
                f"{args.spawn_rate:g}/s, {args.duration} s measured after a {ramp} s ramp"
            )
            locust = subprocess.run(
                [str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                 "--host", base, "-u", str(args.users), "-r", str(args.spawn_rate),
                 "--run-time", f"{args.duration + ramp}s", "--reset-stats", "--only-summary",
                 "--csv", str(Path(tmp) / "load"), "--loglevel", "WARNING", "--stop-timeout", "10"],
                env={**os.environ, "LOAD_TARGETS": str(target_file)}, cwd=ROOT, check=False,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            stop.set()
            sampler.join()
            if not (Path(tmp) / "load_stats.csv").exists():
                raise SystemExit(f"locust failed ({locust.returncode}):\n{locust.stderr[-3000:]}")
            errors = report(Path(tmp) / "load_stats.csv")
            failures = Path(tmp) / "load_failures.csv"
            if errors and failures.exists():
                print(failures.read_text())
        with psycopg.connect(args.database_url) as conn:
            pool = conn.execute("SHOW max_connections").fetchone()[0]
        print(
            f"errors: {errors} (target 0); web process connections at most {peak[0]} (max_connections {pool})"
        )
    finally:
        stop.set()
        web.terminate()
        web.wait(timeout=30)


if __name__ == "__main__":
    main()
