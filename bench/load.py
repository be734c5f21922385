"""A small closed-loop HTTP load generator for comparing pages of a hub on loopback.

N client threads each keep one HTTP/1.1 connection (http.client, keep-alive when the server allows
it; gunicorn's sync workers close after every response, so those clients reconnect) and send the
next request as soon as the previous answer has been read. After a warm-up, it counts requests for
a fixed duration (or until a request count is reached) and reports requests/second and latency
percentiles. Everything is bounded: at most MAX_CLIENTS threads, MAX_DURATION seconds, and only
loopback addresses.

As a library (other benchmarks):

    from bench.load import compare, measure
    print(measure("http://127.0.0.1:8000/bench/baseline", clients=8, duration=10))
    compare({"baseline": base + "/bench/baseline", "home": base + "/"})

From the shell, against a running hub, or starting a private gunicorn on a database (for instance the
100k catalog of `manage.py seed_catalog` in hub_bench):

    .venv/bin/python bench/load.py --url baseline=http://127.0.0.1:8000/bench/baseline --url home=http://127.0.0.1:8000/
    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/hub_bench \\
        --path baseline=/bench/baseline --path home=/ --clients 8 --duration 15

The load generator runs in the same machine as the server and takes CPU from it (with 2 cores,
expect it to use a good part of one): compare figures from the same run, not absolute numbers.
"""

import argparse
import contextlib
import http.client
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_CLIENTS = 256
MAX_DURATION = 600.0
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Result:
    url: str
    clients: int
    seconds: float  # measured window (after warm-up)
    requests: int  # successful (2xx/3xx) requests in the window
    errors: int  # exceptions and 4xx/5xx answers in the window
    latencies: list[float] = field(repr=False, default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency in milliseconds at percentile p (0-100), nearest-rank."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    def __str__(self) -> str:
        return (
            f"{self.url}: {self.rps:.1f} req/s, p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, "
            f"p99 {self.p99:.1f} ms ({self.requests} requests, {self.errors} errors, "
            f"{self.clients} clients, {self.seconds:.1f} s)"
        )


def _check_loopback(url: str):
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"Only plain http:// URLs are supported, not {url!r}")
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"Refusing to load a non-loopback host: {parts.hostname!r} (use 127.0.0.1)")
    return parts


def measure(
    url: str,
    *,
    clients: int = 8,
    duration: float = 10.0,
    requests: int | None = None,
    warmup: float = 1.0,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> Result:
    """Closed-loop load on one URL: `clients` connections, each sending its next request as soon as the
    previous answer is read. Counts for `duration` seconds after `warmup` seconds, or until `requests`
    successful requests were counted, whichever comes first."""
    parts = _check_loopback(url)
    clients = max(1, min(int(clients), MAX_CLIENTS))
    duration = max(0.1, min(float(duration), MAX_DURATION))
    warmup = max(0.0, min(float(warmup), MAX_DURATION))
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    send_headers = {"Host": parts.netloc, "User-Agent": "bench-load/1", "Accept-Encoding": "identity"}
    send_headers.update(headers or {})

    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counters = {"ok": 0, "errors": 0}
    stop = threading.Event()
    start_line = threading.Barrier(clients + 1)
    window = {}

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        mine: list[float] = []
        my_statuses: dict[int, int] = {}
        ok = errors = 0
        start_line.wait()
        begin, end = window["begin"], window["end"]
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                if t0 >= end:
                    break
                try:
                    conn.request("GET", target, headers=send_headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status = None
                t1 = time.perf_counter()
                if t0 < begin or t1 > end:
                    continue  # warm-up, or finished after the window closed
                if status is not None:
                    my_statuses[status] = my_statuses.get(status, 0) + 1
                if status is not None and status < 400:
                    ok += 1
                    mine.append(t1 - t0)
                    if requests is not None:
                        with lock:
                            counters["ok"] += 1
                            if counters["ok"] >= requests:
                                window["stopped"] = min(window.get("stopped", t1), t1)
                                stop.set()
                else:
                    errors += 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                counters["errors"] += errors
                if requests is None:
                    counters["ok"] += ok
                for status, n in my_statuses.items():
                    statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["begin"] = now + warmup
    window["end"] = now + warmup + duration
    start_line.wait()
    for thread in threads:
        thread.join(timeout=warmup + duration + timeout + 5)
    stop.set()
    seconds = min(window["end"], window.get("stopped", window["end"])) - window["begin"]
    ok = counters["ok"] if requests is None else min(len(latencies), requests)  # a few finish late
    return Result(
        url=url,
        clients=clients,
        seconds=seconds,
        requests=ok,
        errors=counters["errors"],
        latencies=latencies,
        statuses=dict(sorted(statuses.items())),
    )


def compare(
    urls: dict[str, str],
    baseline: str = "baseline",
    *,
    clients: int = 8,
    duration: float = 10.0,
    requests: int | None = None,
    warmup: float = 1.0,
    rounds: int = 1,
    out=None,
) -> dict[str, Result]:
    """Measure each URL in turn (same settings) and print a table with RPS, p50, p95 and the ratios to
    the baseline: RPS as baseline/page (how many times slower) and latencies as page/baseline.

    With rounds > 1 the URLs take turns, `duration / rounds` seconds each per round, and each URL's
    rounds are pooled: a neighbour's burst of load then falls on every URL alike instead of on one."""
    out = out or sys.stdout
    if baseline not in urls:
        raise ValueError(f"{baseline!r} is not one of the URLs: {', '.join(urls)}")
    rounds = max(1, int(rounds))
    results: dict[str, Result] = {}
    for _ in range(rounds):
        for name, url in urls.items():
            r = measure(url, clients=clients, duration=duration / rounds, requests=requests, warmup=warmup)
            pooled = results.get(name)
            if pooled is None:
                results[name] = r
                continue
            pooled.seconds += r.seconds
            pooled.requests += r.requests
            pooled.errors += r.errors
            pooled.latencies.extend(r.latencies)
            for status, n in r.statuses.items():
                pooled.statuses[status] = pooled.statuses.get(status, 0) + n
    base = results[baseline]
    width = max(8, *(len(name) for name in results))
    print(
        f"{clients} clients, {duration:g} s each in {rounds} interleaved round(s), {warmup:g} s warm-up "
        f"before each; ratios are to {baseline!r}",
        file=out,
    )
    header = (
        f"{'page':<{width}} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'x slower':>9} {'p50 x':>7} "
        f"{'p95 x':>7} {'errors':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, r in results.items():
        slower = base.rps / r.rps if r.rps else float("inf")
        p50x = r.p50 / base.p50 if base.p50 else float("nan")
        p95x = r.p95 / base.p95 if base.p95 else float("nan")
        print(
            f"{name:<{width}} {r.rps:>9.1f} {r.p50:>8.1f} {r.p95:>8.1f} {slower:>9.2f} {p50x:>7.2f} "
            f"{p95x:>7.2f} {r.errors:>7}",
            file=out,
        )
    return results


@contextlib.contextmanager
def bench_hub(database_url: str, workers: int = 2):
    """gunicorn serving the hub with bench.settings_bench (hence /bench/baseline) on `database_url`."""
    try:
        from bench._harness import gunicorn
    except ImportError:  # run as a script: bench/ is on sys.path
        from _harness import gunicorn

    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    with gunicorn(env, workers=workers) as (_process, base):
        yield base


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep:
            raise SystemExit(f"{flag} takes name=value, not {value!r}")
        pairs[name] = target
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", action="append", default=[], help="name=http://127.0.0.1:PORT/path")
    parser.add_argument("--path", action="append", default=[], help="name=/path, with --database-url")
    parser.add_argument("--database-url", help="start a private gunicorn (bench.settings_bench) on this DB")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers with --database-url")
    parser.add_argument("--baseline", default="baseline", help="name of the URL the others are compared to")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per URL")
    parser.add_argument("--requests", type=int, help="stop a URL after this many successful requests")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=1, help="interleave the URLs in this many rounds")
    args = parser.parse_args(argv)
    options = {
        "clients": args.clients,
        "duration": args.duration,
        "requests": args.requests,
        "warmup": args.warmup,
        "rounds": args.rounds,
    }

    if args.database_url:
        paths = _pairs(args.path, "--path") or {"baseline": "/bench/baseline", "home": "/"}
        with bench_hub(args.database_url, workers=args.workers) as base:
            print(f"gunicorn with {args.workers} workers at {base}")
            compare({name: base + path for name, path in paths.items()}, args.baseline, **options)
    else:
        urls = _pairs(args.url, "--url")
        if not urls:
            parser.error("give --url name=URL (one named like --baseline), or --database-url")
        if len(urls) == 1 and args.baseline not in urls:
            options.pop("rounds")
            print(measure(next(iter(urls.values())), **options))
        else:
            compare(urls, args.baseline, **options)


if __name__ == "__main__":
    main()
