from django.apps import AppConfig

# psycopg turns a statement's %s into $1, $2... and keeps the result for the next run only for a
# statement up to 4 KiB and 50 parameters. The model page's query for a signed-in viewer (page_cache,
# about 5 KiB and 56 parameters) was converted on every request: 7% of that page's time in-process
# (docs/performance.md#prepared-statements). Kept for statements up to 64 KiB and 500 parameters; the
# cache still holds at most 128 of them.
PSYCOPG_CACHED_STATEMENT_LENGTH = 64 * 1024
PSYCOPG_CACHED_STATEMENT_PARAMS = 500


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from . import metrics

        metrics.connect_signals()
        _keep_long_statements_converted()


def _keep_long_statements_converted() -> None:
    from psycopg import _queries  # installed whatever the database (pyproject.toml)

    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):  # a psycopg without it keeps its own rule
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(
            _queries.MAX_CACHED_STATEMENT_LENGTH, PSYCOPG_CACHED_STATEMENT_LENGTH
        )
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(
            _queries.MAX_CACHED_STATEMENT_PARAMS, PSYCOPG_CACHED_STATEMENT_PARAMS
        )
