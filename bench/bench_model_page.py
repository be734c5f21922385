"""Benchmark: the model page with 200 comments and 50 reviews against the bare one-SELECT view.

    cd /work/main && .venv/bin/python bench/bench_model_page.py [--comments 200] [--reviews 50] [--repeat 40]
    .venv/bin/python bench/bench_model_page.py --database-url postgres://postgres@127.0.0.1:5432/hub_bench

A throwaway hub (its own var/ folder with SQLite, unless --database-url names an empty PostgreSQL
database to migrate into) gets one published model with --comments comments (half top-level, half
replies spread over the threads, down to depth 5, some with @mentions and reactions) and --reviews
reviews. Then, in this process through Django's test client (the whole middleware stack and
templates, no HTTP server), it times, interleaved, median (and min) of --repeat requests:

  (a) /bench/baseline (bench/urls_bench.py): a bare view, one indexed SELECT, a little JSON;
  (b) the model page as an anonymous visitor;
  (c) the model page signed in (session, the user's reactions, the forms of every comment);
  (d) the model page with 5 comments, the same model otherwise (a second model);
  (e) the model page with no comment and no review (a third model): what the page costs without them.

It prints each time, each page against (a), and the number of SQL queries of each page: the page's
count must not grow with the number of comments (tests/community/test_comments.py asserts that; here
it is printed). It prints numbers and asserts nothing.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def setup_django(database_url: str | None, var_dir: str) -> None:
    for key in [k for k in os.environ if k.startswith(("DATABASE_URL", "REDIS_URL", "S3_", "CELERY_"))]:
        del os.environ[key]
    os.environ.update(
        {
            "VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "DEBUG": "false",
        }
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n_comments: int, n_reviews: int, name: str):
    """A published model with its comments and reviews; returns it and a signed-in fan."""
    import io

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from community import comments
    from community.models import Review
    from models_app import demo, services
    from models_app.tasks import process_file

    User = get_user_model()
    creator, _ = User.objects.get_or_create(username="bench-creator", defaults={"email": "c@bench.test"})
    fan, _ = User.objects.get_or_create(username="bench-fan", defaults={"email": "f@bench.test"})
    talkers = [User.objects.get_or_create(username=f"talker{i}")[0] for i in range(10)]
    with transaction.atomic():
        model = services.create_model(owner=creator, name=name, type="LORA")
        version = services.create_version(
            model=model, name="v1.0", base_model="SD 1.5", trained_words=["ink"]
        )
        model_file = services.add_file(
            version=version, name="ink.safetensors", content=io.BytesIO(demo.tiny_lora())
        )
    process_file.apply(args=[model_file.id])
    services.publish_version(version=version, by=creator)
    model.refresh_from_db()

    from django.conf import settings

    settings.COMMENT_RATE_LIMIT = settings.COMMENT_IP_RATE_LIMIT = settings.REACTION_RATE_LIMIT = 0
    settings.COMMENT_MIN_ACCOUNT_AGE = 0
    target = comments.find_target(creator, "model", model.id)
    tops, last = [], None
    for i in range(n_comments):
        author = talkers[i % len(talkers)]
        body = f"Comment {i}: **nice** work, see [the notes](https://example.test/{i}) @bench-creator"
        if i % 2 == 0 or not tops:
            last = comments.post_comment(author, target, body)
            tops.append(last)
        else:
            parent = last if last.depth < 5 and i % 4 == 1 else tops[(i * 7) % len(tops)]
            last = comments.post_comment(author, target, body, parent_id=parent.id)
        if i % 3 == 0:
            comments.add_reaction(fan, last, "like")
            comments.add_reaction(talkers[(i + 1) % len(talkers)], last, "heart")
    reviewers = [User.objects.get_or_create(username=f"{name}-reviewer{i}")[0] for i in range(n_reviews)]
    for i, reviewer in enumerate(reviewers):
        Review.objects.create(
            user=reviewer, version=version, recommended=i % 3 != 0, text="Good", text_html="<p>Good</p>"
        )
    return model, fan


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--reviews", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=40, help="requests per case; the median is shown")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite)")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hub-bench-") as var:
        setup_django(opts.database_url, var)
        from django.db import connection
        from django.test import Client

        big, fan = seed(opts.comments, opts.reviews, "Busy Model")
        small, _ = seed(5, opts.reviews, "Quiet Model")
        bare, _ = seed(0, 0, "Bare Model")
        anonymous, signed_in = Client(), Client()
        signed_in.force_login(fan)
        cases = {
            "(a) /bench/baseline, one SELECT": (anonymous, "/bench/baseline"),
            f"(b) model page, {opts.comments} comments, anonymous": (anonymous, big.get_absolute_url()),
            f"(c) model page, {opts.comments} comments, signed in": (signed_in, big.get_absolute_url()),
            "(d) model page, 5 comments, signed in": (signed_in, small.get_absolute_url()),
            "(e) model page, no comments, no reviews, signed in": (signed_in, bare.get_absolute_url()),
        }
        assert 'data-testid="post-comment"' in signed_in.get(big.get_absolute_url()).content.decode()
        for client, url in cases.values():  # warm-up: template loading, connection, caches
            for _ in range(3):
                timed(client, url)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(opts.repeat):
            for name, (client, url) in cases.items():
                times[name].append(timed(client, url))
        counts = {name: queries(client, url) for name, (client, url) in cases.items()}

        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
            f"database {connection.vendor}; {opts.comments} comments and {opts.reviews} reviews; "
            f"{opts.repeat} requests each, interleaved, in-process (Django test client)\n"
        )
        base = statistics.median(times[next(iter(cases))])
        print(f"{'case':56} {'median ms':>10} {'min ms':>8} {'x (a)':>7} {'queries':>8}")
        for name, values in times.items():
            median = statistics.median(values)
            print(
                f"{name:56} {median * 1000:10.2f} {min(values) * 1000:8.2f} {median / base:6.1f}x {counts[name]:8d}"
            )
        grew = counts[list(cases)[2]] - counts[list(cases)[3]]
        print(f"\nqueries, signed in: {opts.comments} comments vs 5 comments: {grew:+d}")


if __name__ == "__main__":
    main()
