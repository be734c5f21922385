"""Shared fixtures: the cast of users, isolated storage, Celery in eager mode unless a test starts a worker."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from hub.celery import app as celery_app

from .factories import ensure_base_models, make_user


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline():
    """Tasks run in the test process when their transaction commits; tests/test_worker.py starts a real
    worker instead. Exceptions propagate so a broken task fails the test that triggered it."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True, scope="session")
def _translations_compiled():
    """The French .mo files, compiled from locale/ as `make test` does, so running pytest alone works too."""
    from hub.management.commands.compile_translations import compile_translations

    compile_translations()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if not settings.S3_BUCKET:
        # Each test gets its own empty disk storage. With S3 configured (CI), the real bucket is used.
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = {
            **settings.STORAGES,
            "models": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "media" / "models")},
            },
        }
    # Pages as rendered: a kept page lags behind by design (models_app/page_cache.py); the tests of
    # kept pages turn it on with `pages_kept`.
    settings.ANONYMOUS_CACHE_SECONDS = 0
    cache.clear()  # rate-limit counters and cached pages must not leak between tests
    yield


@pytest.fixture
def pages_kept(settings):
    """Pages kept as the hub keeps them by default (ANONYMOUS_CACHE_SECONDS, off in other tests)."""
    settings.ANONYMOUS_CACHE_SECONDS = 30


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "live_server" in getattr(
        item, "fixturenames", ()
    )


def pytest_collection_modifyitems(items):
    """Run transactional tests last, as Django's own runner does: they end by emptying every table."""
    items.sort(key=_is_transactional)


@pytest.fixture
def base_models(transactional_db):
    ensure_base_models()


class ClosingClient(Client):
    """Django's test client, but a streamed response (a file download) is read and closed at once, as
    a WSGI server would, so a test that only looks at headers leaves no file open."""

    def request(self, **request):
        response = super().request(**request)
        if response.streaming:
            body = b"".join(response.streaming_content)
            # Only the file: response.close() would also fire request_finished, which closes the
            # test database connection.
            for close in response._resource_closers:
                close()
            response._resource_closers.clear()
            response.streaming_content = iter([body])
        return response


@pytest.fixture
def client():
    return ClosingClient()


@pytest.fixture
def creator(db):
    return make_user("alice")


@pytest.fixture
def fan(db):
    return make_user("bob")


@pytest.fixture
def moderator(db):
    from moderation.roles import grant_moderator

    user = make_user("charlie")
    grant_moderator(user=user)
    return user


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (task enqueues) as they would run after a real commit."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    storage = "s3" if settings.S3_BUCKET else "local disk"
    return f"hub: database={db}, broker={settings.CELERY_BROKER_URL.split(':')[0]}, storage={storage}"
