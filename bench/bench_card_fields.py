"""Filling the card copies of a whole catalog right after a bulk load, before and after issue 17.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench .venv/bin/python bench/bench_card_fields.py
    ... bench/bench_card_fields.py --timeout 600 --skip-old

On a catalog seeded by `seed_catalog` (PostgreSQL), each case runs in its own transaction that is
rolled back, after emptying every model's copies and making the planner forget the catalog tables'
statistics, as right after a bulk load (pg_statistic rows deleted, pg_class counts reset; needs a
superuser, and it is rolled back too):

(a) the previous statement: three correlated subqueries per model (kept here as the reference),
    stopped after --timeout seconds;
(b) the set-based statement of models_app/cards.py, without statistics;
(c) cards.refresh_card_fields() as seed_catalog runs it: ANALYZE of the tables it reads, then (b);
(d) the previous statement again, after ANALYZE (the issue measured 18 s on its 100k catalog).

docs/scaling-database.md#filling-the-card-copies explains the difference.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django.setup()

from django.db import OperationalError, connection, transaction  # noqa: E402

from models_app import cards  # noqa: E402

PREVIOUS_SQL = """
UPDATE models_app_aimodel m SET
    tag_names = COALESCE((SELECT json_agg(g.name ORDER BY g.name) FROM models_app_aimodel_tags t
                          JOIN models_app_tag g ON g.id = t.tag_id WHERE t.aimodel_id = m.id), '[]'::json),
    base_model_names = COALESCE((SELECT json_agg(DISTINCT b.name) FROM models_app_modelversion v
                                 JOIN models_app_basemodel b ON b.id = v.base_model_id
                                 WHERE v.model_id = m.id AND v.status = 'published'), '[]'::json),
    trigger_words = COALESCE((SELECT jsonb_agg(DISTINCT w) FROM models_app_modelversion v,
                              jsonb_array_elements_text(v.trained_words) w
                              WHERE v.model_id = m.id AND v.status = 'published'
                              AND jsonb_typeof(v.trained_words) = 'array'), '[]'::jsonb)
"""


class Rollback(Exception):
    pass


def run(label: str, action, *, timeout: int, analyze: bool = False) -> None:
    started = None
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE models_app_aimodel SET tag_names = '[]', base_model_names = '[]', "
                               "trigger_words = '[]'")  # fmt: skip
                tables = list(cards.CARD_SOURCE_TABLES)
                cursor.execute("DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])", [tables])
                cursor.execute(
                    "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = ANY(%s::regclass[])",
                    [tables],
                )
                if analyze:
                    for table in tables:
                        cursor.execute(f"ANALYZE {table}")
                cursor.execute(f"SET LOCAL statement_timeout = '{timeout}s'")
                started = time.monotonic()
                action(cursor)
                elapsed = time.monotonic() - started
                cursor.execute("SELECT count(*) FROM models_app_aimodel WHERE tag_names::text <> '[]'")
                filled = cursor.fetchone()[0]
            print(f"{label}: {elapsed:.1f} s ({filled} models with tags)", flush=True)
            raise Rollback
    except Rollback:
        pass
    except OperationalError as error:
        if started is None:
            raise
        print(f"{label}: stopped after {time.monotonic() - started:.0f} s ({str(error).strip()})", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeout", type=int, default=600, help="seconds before a case is stopped")
    parser.add_argument("--skip-old", action="store_true", help="skip (a)")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a PostgreSQL catalog seeded by seed_catalog")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM models_app_aimodel")
        print(f"{cursor.fetchone()[0]} models; each case rolled back", flush=True)
    run("(b) set-based, no statistics", lambda c: c.execute(cards.ALL_MODELS_SQL), timeout=args.timeout)

    def refresh(cursor):
        cursor.execute("SET LOCAL statement_timeout = 0")
        cards.refresh_card_fields()

    run("(c) refresh_card_fields(): ANALYZE, then set-based", refresh, timeout=args.timeout)
    run("(d) previous statement, after ANALYZE", lambda c: c.execute(PREVIOUS_SQL), timeout=args.timeout,
        analyze=True)  # fmt: skip
    if not args.skip_old:
        run("(a) previous statement, no statistics", lambda c: c.execute(PREVIOUS_SQL), timeout=args.timeout)


if __name__ == "__main__":
    main()
