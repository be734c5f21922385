"""Closed-loop page benchmark: each page of the hub against the bare baseline view, in the same run.

N client threads each keep one HTTP/1.1 connection (http.client, keep-alive when the server allows
it; gunicorn's sync workers close after every response, so those clients reconnect) and send the
next request as soon as the previous answer has been read. After a warm-up, it counts requests for
a fixed duration (or until a request count is reached) and reports requests/second and latency
percentiles. Everything is bounded: at most MAX_CLIENTS threads, MAX_DURATION seconds, and only
loopback addresses.

As a library (other benchmarks):

    from bench.pages import compare, measure
    print(measure("http://127.0.0.1:8000/bench/baseline", clients=4, duration=10))

The load generator runs in the same machine as the server and takes CPU from it (with 2 cores,
expect it to use a good part of one): compare figures from the same run, not absolute numbers.

This is the measurement of docs/performance.md (and of the README's "The catalog, one page at a time"):
on a seeded catalog (`bench/load.py` seeds one; `seed_catalog --models N`), it starts gunicorn as
`make run` does (hub/gunicorn_conf.py, DEBUG off) with bench.settings_bench, picks its targets from
the database (a model with the median number of versions, `model-page`, and the one with the most,
`model-page-most`; the typical one also for a signed-in person, `model-page-signed-in`, and for
one who follows it, reviewed it or commented on it, `model-page-follower`, `-reviewer`,
`-commenter`, after giving it comments and reviews (furnish_page); the search page for that
signed-in person, `search-page-signed-in`, the browse page (`browse-page`, `-signed-in`) and the home
page; one of its versions and files' SHA256), then measures every page in interleaved rounds and prints RPS, p50, p95 and ratios to the
baseline; the search pages' p95 is also given as a multiple of the list's p95. Last, it times the
by-hash batch POST (`--hashes` SHA256s in one request, median of 5).

    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/hub_bench
    .venv/bin/python bench/pages.py --database-url ... --clients 4 --duration 30 --rounds 6 --only baseline,civitai-list
"""

import argparse
import http.client
import os
import subprocess
import sys
import threading
import time
import urllib.request
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
    headers: dict[str, dict[str, str]] | None = None,
) -> dict[str, Result]:
    """Measure each URL in turn (same settings) and print a table with RPS, p50, p95 and the ratios to
    the baseline: RPS as page/baseline (0.5 = half the baseline's rate) and latencies as page/baseline.

    With rounds > 1 the URLs take turns, `duration / rounds` seconds each per round, and each URL's
    rounds are pooled: a neighbour's burst of load then falls on every URL alike instead of on one.
    `headers` maps a URL's name to headers sent with it (a signed-in session's cookie)."""
    out = out or sys.stdout
    if baseline not in urls:
        raise ValueError(f"{baseline!r} is not one of the URLs: {', '.join(urls)}")
    rounds = max(1, int(rounds))
    results: dict[str, Result] = {}
    for _ in range(rounds):
        for name, url in urls.items():
            r = measure(
                url,
                clients=clients,
                duration=duration / rounds,
                requests=requests,
                warmup=warmup,
                headers=(headers or {}).get(name),
            )
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
        f"{'page':<{width}} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'RPS x':>7} {'p50 x':>7} "
        f"{'p95 x':>7} {'errors':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, r in results.items():
        share = r.rps / base.rps if base.rps else float("nan")  # 0.5 = half the baseline's rate
        p50x = r.p50 / base.p50 if base.p50 else float("nan")
        p95x = r.p95 / base.p95 if base.p95 else float("nan")
        print(
            f"{name:<{width}} {r.rps:>9.1f} {r.p50:>8.1f} {r.p95:>8.1f} {share:>7.2f} {p50x:>7.2f} "
            f"{p95x:>7.2f} {r.errors:>7}",
            file=out,
        )
    return results


def targets(database_url: str) -> dict:
    """A published model with the most versions among a sample (its page and its CivitAI record), a
    model with the sample's median number of versions (the typical page), the first one's newest
    version, and SHA256s of ready files for the by-hash lookups."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        by_versions = conn.execute(
            "SELECT m.id, m.slug, count(*) FROM models_app_aimodel m"
            " JOIN models_app_modelversion v ON v.model_id = m.id"
            " WHERE m.status = 'published' AND m.nsfw_level <= 2 AND v.status = 'published'"
            " AND m.id IN (SELECT id FROM models_app_aimodel WHERE status = 'published' ORDER BY id DESC LIMIT 2000)"
            " GROUP BY m.id, m.slug ORDER BY count(*) DESC, m.id"
        ).fetchall()
        model = by_versions[0][:2] if by_versions else None
        # The typical page too: seed_catalog gives models 1 to 5 versions, so the median has 3.
        typical = by_versions[len(by_versions) // 2][:2] if by_versions else None
        if model is None:
            raise SystemExit("no published model: seed a catalog first (bench/load.py or seed_catalog)")
        version = conn.execute(
            "SELECT id FROM models_app_modelversion WHERE model_id = %s AND status = 'published'"
            " ORDER BY id DESC LIMIT 1",
            [model[0]],
        ).fetchone()[0]
        hashes = [
            row[0]
            for row in conn.execute(
                "SELECT b.sha256 FROM models_app_contentblob b JOIN models_app_modelfile f ON f.blob_id = b.id"
                " WHERE f.status = 'ready' AND b.sha256 <> '' ORDER BY f.id DESC LIMIT 10000"
            )
        ]
    return {"model": model, "typical": typical, "version": version, "hashes": hashes}


def pages(t: dict) -> dict[str, str]:
    model_id, slug = t["model"]
    sha = t["hashes"][0] if t["hashes"] else "0" * 64
    return {
        "baseline": "/bench/baseline",
        "hub-list": "/api/hub/models?limit=100",
        "hub-search": "/api/hub/models?q=watercolor&limit=24",
        # A word in half the catalog's descriptions (seed_catalog's "style"): what a frequent word costs.
        "hub-search-common": "/api/hub/models?q=style&limit=24",
        # A misspelled word beside a right one: fewer than a page match, so the typo steps run.
        "hub-search-typo": "/api/hub/models?q=watercolr+portrait&limit=24",
        "search-page": "/search/?q=watercolor",
        # The same for SIGNED_IN_USER: kept per levels and blur with their header drawn in.
        "search-page-signed-in": "/search/?q=watercolor",
        # The browse page (24 cards, filters) and the home page, anonymous and signed in: kept the same way.
        "browse-page": "/models/",
        "browse-page-signed-in": "/models/",
        "home-page": "/",
        "model-page": "/models/{}/{}".format(*t["typical"]),
        "model-page-most": f"/models/{model_id}/{slug}",
        # The typical page for someone signed in (a session of SIGNED_IN_USER, neither its creator
        # nor a moderator, with nothing of their own on it): kept with their header and collections
        # drawn in (docs/performance.md#kept-for-signed-in-viewers); built with ANONYMOUS_CACHE_SECONDS=0.
        "model-page-signed-in": "/models/{}/{}".format(*t["typical"]),
        # The same page for FOLLOWER_USER, who follows the model: their follow button is drawn in;
        # for REVIEWER_USER, who reviewed its newest version: their review forms are drawn in; for
        # COMMENTER_USER, who commented and reacted: their comments' actions are drawn in.
        "model-page-follower": "/models/{}/{}".format(*t["typical"]),
        "model-page-reviewer": "/models/{}/{}".format(*t["typical"]),
        "model-page-commenter": "/models/{}/{}".format(*t["typical"]),
        # The same page for its creator: built for them, kept for them alone until they change
        # something (docs/performance.md#kept-for-one-viewer).
        "model-page-creator": "/models/{}/{}".format(*t["typical"]),
        # ...and for a moderator (MODERATOR_USER): the same, their moderation controls on it.
        "model-page-moderator": "/models/{}/{}".format(*t["typical"]),
        # ...and for the creator with the most models, who has nothing of their own on this page: kept
        # for signed-in viewers, but the own-state checks look for drafts of theirs in any lineage.
        "model-page-prolific": "/models/{}/{}".format(*t["typical"]),
        "civitai-list": "/api/v1/models?limit=100",
        "civitai-model": f"/api/v1/models/{model_id}",
        "civitai-version": f"/api/v1/model-versions/{t['version']}",
        "civitai-by-hash": f"/api/v1/model-versions/by-hash/{sha}",
        "civitai-images": "/api/v1/images?limit=100",
        "hf-list": "/api/models?limit=100",
    }


SIGNED_IN_USER = "bench-viewer"
FOLLOWER_USER = "bench-follower"
REVIEWER_USER = "bench-reviewer"
COMMENTER_USER = "bench-commenter"
MODERATOR_USER = "bench-moderator"
# Pages measured with a session cookie: page name -> (username, what they have on the typical model).
SIGNED_IN_PAGES = {
    "model-page-signed-in": (SIGNED_IN_USER, ""),
    "search-page-signed-in": (SIGNED_IN_USER, ""),
    "browse-page-signed-in": (SIGNED_IN_USER, ""),
    "model-page-follower": (FOLLOWER_USER, "follows"),
    "model-page-reviewer": (REVIEWER_USER, "reviewed"),
    "model-page-commenter": (COMMENTER_USER, "commented"),
    "model-page-creator": ("", "owns"),  # the model's owner
    "model-page-moderator": (MODERATOR_USER, "moderates"),
    "model-page-prolific": ("", "owns most"),  # the creator with the most models, not this one's
}
# The typical model's page carries what people leave on one (furnish_page): top-level comments with
# replies and reactions, from TALKERS people, and reviews of its newest version.
COMMENTS, TALKERS, REVIEWS = 20, 6, 5


def _shell(env: dict, code: str) -> str:
    from _harness import ROOT, VENV_BIN

    made = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "shell", "-c", code],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return made.stdout


# Run in the catalog's database by `manage.py shell`: rate limits and account age off for the writes.
_SETUP = """
from datetime import timedelta
from django.conf import settings
from django.utils import timezone
from django.contrib.auth import get_user_model
from community import comments, follows, reviews
from community.models import Comment, Review
from models_app.models import AIModel
settings.COMMENT_RATE_LIMIT = settings.COMMENT_IP_RATE_LIMIT = settings.REACTION_RATE_LIMIT = 0
settings.REVIEW_RATE_LIMIT = 0
settings.COMMENT_MIN_ACCOUNT_AGE = 0
User = get_user_model()
old_enough = {{"date_joined": timezone.now() - timedelta(days=30)}}  # may review (community/abuse.py)
model = AIModel.objects.get(id={model_id!r})
newest = model.versions.filter(status="published").order_by("-id").first()
target = comments.find_target(model.owner, "model", model.id)
"""


def furnish_page(env: dict, model_id: int) -> None:
    """Give the typical model COMMENTS comments (every other one a reply, every third one with
    reactions) and REVIEWS reviews, once."""
    code = (
        _SETUP.format(model_id=model_id)
        + f"""
talkers = [User.objects.get_or_create(username=f"bench-talker{{i}}", defaults=old_enough)[0] for i in range({TALKERS})]
if not Comment.objects.filter(model=model, user__in=talkers).exists():
    last = None
    for i in range({COMMENTS}):
        body = f"Comment {{i}}: **nice** work, see [the notes](https://example.test/{{i}})"
        parent = last.id if last is not None and i % 2 else None
        last = comments.post_comment(talkers[i % len(talkers)], target, body, parent_id=parent)
        if i % 3 == 0:
            comments.add_reaction(talkers[(i + 1) % len(talkers)], last, "heart")
if not Review.objects.filter(version=newest, user__in=talkers).exists():
    for i in range({REVIEWS}):
        reviews.submit_review(talkers[i], newest, i % 3 != 0, f"Review {{i}}: **good** brushes")
from django.db import connection
if connection.vendor == "postgresql":  # the planner's statistics, as autovacuum would leave them
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE community_comment, community_reaction, community_review, community_follow")
"""
    )
    _shell(env, code)


def signed_in_cookie(env: dict, username: str, has: str, model_id: int) -> str:
    """A session of `username` (created if missing; following, having reviewed or having commented
    on and reacted to `model_id`, or a moderator, as `has` says; or of the model's creator when `has` is
    "owns", of the creator with the most models when "owns most") in the catalog's database, as a
    Cookie header."""
    code = (
        _SETUP.format(model_id=model_id)
        + f"""
from django.test import Client
if {has!r} == "owns":
    user = model.owner
elif {has!r} == "owns most":
    from django.db.models import Count
    user = User.objects.exclude(pk=model.owner_id).annotate(n=Count("ai_models")).order_by("-n").first()
else:
    user, _ = User.objects.get_or_create(username={username!r}, defaults=old_enough)
if {has!r} == "moderates":
    from moderation.roles import grant_moderator
    grant_moderator(user=user)
if {has!r} == "follows":
    follows.follow(follower=user, target={{"model": model}})
if {has!r} == "reviewed" and not Review.objects.filter(user=user, version=newest).exists():
    reviews.submit_review(user, newest, True, "Mine: **lovely** brushes")
if {has!r} == "commented" and not Comment.objects.filter(user=user, model=model).exists():
    comments.post_comment(user, target, "Mine: how many steps did you train?")
    comments.add_reaction(user, Comment.objects.filter(model=model).exclude(user=user).first(), "like")
client = Client()
client.force_login(user)
name = settings.SESSION_COOKIE_NAME
print(f"{{name}}={{client.cookies[name].value}}")
"""
    )
    return _shell(env, code).strip().splitlines()[-1]


def time_hash_batch(base: str, hashes: list[str], repeat: int = 5, out=None) -> None:
    """POST /api/v1/model-versions/by-hash/ids with every hash in one request: median wall time."""
    import json
    import statistics

    out = out or sys.stdout
    body = json.dumps(hashes).encode()
    seconds, answered = [], 0
    for _ in range(repeat):
        request = urllib.request.Request(
            base + "/api/v1/model-versions/by-hash/ids",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            answered = len(json.loads(response.read()))
        seconds.append(time.perf_counter() - t0)
    print(
        f"by-hash ids, {len(hashes)} SHA256s in one POST: median {statistics.median(seconds) * 1000:.0f} ms, "
        f"min {min(seconds) * 1000:.0f} ms ({answered} answered; target under 1 s)",
        file=out,
    )


def main(argv=None):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _harness import ROOT, VENV_BIN, environ_without, free_port, wait_http

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/hub_bench")
    parser.add_argument("--var-dir", help="VAR_DIR of the catalog (its secret key); default: a temporary one")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (threads: hub/gunicorn_conf.py)"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds measured per page, over all rounds"
    )
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=6, help="interleave the pages in this many rounds")
    parser.add_argument("--only", help="comma-separated page names (baseline is always measured)")
    parser.add_argument(
        "--hashes", type=int, default=10_000, help="SHA256s in the by-hash batch POST (0: skip)"
    )
    args = parser.parse_args(argv)

    t = targets(args.database_url)
    urls = pages(t)
    if args.only:
        wanted = {"baseline", *args.only.split(",")}
        unknown = wanted - set(urls)
        if unknown:
            raise SystemExit(f"unknown pages {sorted(unknown)}; known: {', '.join(urls)}")
        urls = {name: path for name, path in urls.items() if name in wanted}
    env = environ_without("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
    env.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
        ALLOWED_HOSTS="127.0.0.1",
        DOWNLOAD_RATE_LIMIT="0",
    )
    if args.var_dir:
        env["VAR_DIR"] = args.var_dir
    port = free_port()
    web = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", "hub/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "hub.wsgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")
        print(
            f"gunicorn with {args.workers} workers at {base}; models {t['typical'][0]} and {t['model'][0]},"
            f" version {t['version']}"
        )
        cookies = {}
        if any(name.startswith("model-page") for name in urls):
            furnish_page(env, t["typical"][0])
        for name in SIGNED_IN_PAGES.keys() & set(urls):
            username, has = SIGNED_IN_PAGES[name]
            cookies[name] = {"Cookie": signed_in_cookie(env, username, has, t["typical"][0])}
            # Never measure an anonymous page under a signed-in name.
            page = urllib.request.urlopen(
                urllib.request.Request(base + urls[name], headers=cookies[name]), timeout=30
            ).read()
            if b'data-testid="current-user"' not in page:
                raise SystemExit(f"{name}: the session cookie does not sign in")
        results = compare(
            {name: base + path for name, path in urls.items()},
            clients=args.clients,
            duration=args.duration,
            warmup=args.warmup,
            rounds=args.rounds,
            headers=cookies,
        )
        if "hub-list" in results:
            for name in (
                "hub-search",
                "hub-search-common",
                "hub-search-typo",
                "search-page",
                "search-page-signed-in",
            ):
                if name in results:
                    print(
                        f"{name} p95 = {results[name].p95 / results['hub-list'].p95:.2f}x hub-list p95 (target <= 1.5x)"
                    )
        if "civitai-list" in results:
            print(f"civitai-list p50 {results['civitai-list'].p50:.1f} ms (target <= 50 ms)")
        if args.hashes and t["hashes"]:
            time_hash_batch(
                base,
                (t["hashes"] * args.hashes)[: args.hashes]
                if len(t["hashes"]) < args.hashes
                else t["hashes"][: args.hashes],
            )
    finally:
        web.terminate()
        web.wait(timeout=30)


if __name__ == "__main__":
    main()
