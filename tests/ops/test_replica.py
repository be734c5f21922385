"""The optional read replica (docs/operations.md#read-replica): reads go to it, writes and what
follows them go to the primary. Against a second real PostgreSQL database standing in for the replica."""

import copy
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.db import connections, router, transaction

from hub import db_router
from tests.factories import make_user
from tests.fresh_python import run_with_settings
from tests.ops.tasks import database_for_reads

ROOT = Path(__file__).resolve().parent.parent.parent


def run_settings(code: str, **env) -> subprocess.CompletedProcess:
    return run_with_settings(code, env)


def test_without_a_replica_everything_uses_the_one_database():
    assert "replica" not in settings.DATABASES or os.environ.get("DATABASE_REPLICA_URL")
    if "replica" in settings.DATABASES:
        pytest.skip("a replica is configured for this run")
    assert router.db_for_read(Site) == "default"
    assert router.db_for_write(Site) == "default"
    assert database_for_reads.delay().get() == "default"


def test_a_replica_url_is_read_into_a_second_database_with_the_primarys_options():
    code = (
        "from django.conf import settings as s;"
        "r = s.DATABASES['replica'];"
        "print(r['HOST'], r['NAME'], r['TEST'], r['OPTIONS'] == s.DATABASES['default']['OPTIONS'])"
    )
    result = run_settings(
        code,
        DATABASE_URL="postgres://hub@primary.internal:5432/hub",
        DATABASE_REPLICA_URL="postgres://hub@replica.internal:5432/hub",
    )
    assert result.stdout.split() == ["replica.internal", "hub", "{'MIRROR':", "'default'}", "True"], (
        result.stderr
    )


def test_a_replica_without_a_primary_database_url_is_refused():
    result = run_settings(
        "from django.conf import settings; settings.DATABASES",
        DATABASE_REPLICA_URL="postgres://hub@replica.internal:5432/hub",
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL needs DATABASE_URL" in result.stderr


# --- Against a second PostgreSQL database.


@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker):
    """A second, empty PostgreSQL database registered as "replica", holding only the sites table.
    Module-scoped: the alias must exist before a test declares it may use it."""
    primary = connections["default"].settings_dict
    if primary["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the replica test needs PostgreSQL")
    import psycopg

    name = f"{primary['NAME']}_replica"
    admin = {
        "host": primary["HOST"] or "localhost",
        "port": primary["PORT"] or 5432,
        "user": primary["USER"],
        "password": primary["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**admin, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')
    config = copy.deepcopy(primary)
    config["NAME"] = name
    settings.DATABASES["replica"] = config  # the same dict django.db.connections reads
    try:
        with django_db_blocker.unblock():
            with connections["replica"].schema_editor() as editor:
                editor.create_model(Site)
        yield
    finally:
        connections["replica"].close()
        del connections["replica"]
        del settings.DATABASES["replica"]
        db_router._pinned.set(False)
        with psycopg.connect(**admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def replica(replica_database):
    db_router._pinned.set(False)
    yield
    db_router._pinned.set(False)


USES_REPLICA = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def new_request():
    db_router._pinned.set(False)


@USES_REPLICA
def test_reads_use_the_replica_until_the_code_writes(replica):
    # The same row, different on each side: what a replica that lags behind looks like.
    Site.objects.using("default").create(id=4242, domain="primary.example", name="on the primary")
    Site.objects.using("replica").create(id=4242, domain="replica.example", name="on the replica")
    new_request()
    assert Site.objects.get(id=4242).name == "on the replica"
    Site.objects.filter(id=4242).update(name="renamed on the primary")
    # Read-your-writes: after a write, this request reads from the primary.
    assert Site.objects.get(id=4242).name == "renamed on the primary"
    new_request()
    assert Site.objects.get(id=4242).name == "on the replica"
    with transaction.atomic():  # inside a transaction, reads see its writes and locks
        assert Site.objects.get(id=4242).name == "renamed on the primary"


@USES_REPLICA
def test_queries_built_once_read_where_the_orm_would(replica):
    from models_app.compiled import Built

    Site.objects.using("default").create(id=4343, domain="built-primary.example", name="on the primary")
    Site.objects.using("replica").create(id=4343, domain="built-replica.example", name="on the replica")
    site = Built(lambda pk: Site.objects.filter(pk=pk))
    names = Built(lambda pk: Site.objects.filter(pk=pk).values_list("name"))
    new_request()
    assert [s.name for s in site.objects(4343)] == ["on the replica"]
    assert names.rows(4343) == [("on the replica",)]
    Site.objects.filter(id=4343).update(name="renamed on the primary")
    assert [s.name for s in site.objects(4343)] == ["renamed on the primary"]
    assert site.objects(4343)[0]._state.db == "default"
    assert names.rows(4343) == [("renamed on the primary",)]


@USES_REPLICA
def test_migrations_only_ever_touch_the_primary(replica):
    assert router.allow_migrate("default", "sites") is True
    assert router.allow_migrate("replica", "sites") is False


@USES_REPLICA
def test_tasks_always_read_from_the_primary(replica):
    new_request()
    assert router.db_for_read(Site) == "replica"
    assert database_for_reads.delay().get() == "default"
    assert router.db_for_read(Site) == "replica"  # the task's pin ended with it


@USES_REPLICA
def test_a_browser_that_wrote_reads_from_the_primary_for_a_few_seconds(replica, client, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    user = make_user("carol")
    client.force_login(user)
    new_request()
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[db_router.PIN_COOKIE]["max-age"] == 10
    assert response.cookies[db_router.PIN_COOKIE]["httponly"]
    response = client.get("/healthz")
    assert db_router.PIN_COOKIE not in response.cookies  # no write: the cookie just runs out


@USES_REPLICA
def test_readyz_checks_the_replica_too(replica, client):
    checks = client.get("/readyz").json()["checks"]
    assert checks["database_replica"] == {"ok": True}
