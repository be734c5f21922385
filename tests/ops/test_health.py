"""/healthz (liveness) and /readyz (readiness) (docs/operations.md#health-and-readiness)."""

import socket
import threading

import pytest

from hub.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_any_service(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_readyz_is_200_when_database_cache_broker_and_storage_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert {"database", "cache", "broker", "storage"} <= set(body["checks"])
    assert all(check == {"ok": True} for check in body["checks"].values())


@pytest.fixture
def broker_url():
    """Point the Celery app at another broker for one test."""
    original = celery_app.conf.broker_url

    def use(url):
        celery_app.conf.broker_url = url

    yield use
    celery_app.conf.broker_url = original


def test_readyz_is_503_naming_the_broker_when_nothing_listens_there(client, broker_url):
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker_url(f"redis://127.0.0.1:{port}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert body["checks"]["database"] == {"ok": True}


def test_readyz_gives_up_on_a_broker_that_never_answers(client, broker_url, settings):
    """A server that accepts the connection and then says nothing: the check fails after
    READINESS_TIMEOUT instead of holding the probe."""
    settings.READINESS_TIMEOUT = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    broker_url(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    try:
        response = client.get("/readyz")
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        silent.close()
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_readyz_is_503_naming_the_storage_when_it_is_unusable(client, settings, tmp_path):
    if settings.S3_BUCKET:
        settings.S3_BUCKET = "no-such-bucket-for-readyz"
    else:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the storage folder should be")
        settings.STORAGES = {
            **settings.STORAGES,
            "models": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(blocker / "models")},
            },
        }
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"]["ok"] is False
    assert checks["database"] == {"ok": True} and checks["broker"] == {"ok": True}


def test_readyz_does_not_show_service_addresses(client, broker_url):
    broker_url("redis://secret-host.internal:1/0")
    body = client.get("/readyz").content.decode()
    assert "secret-host" not in body
