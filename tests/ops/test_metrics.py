"""/metrics (docs/operations.md#metrics): protected by a token, in Prometheus's format, counting
uploads, downloads, errors and task durations in a store every process shares."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from hub import metrics
from hub.celery import app as celery_app
from models_app.models import ModelFile
from tests.factories import make_model, publish_model
from tests.ops.tasks import divide

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_metrics_refuse_a_scraper_without_the_token(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"hub_" not in response.content


def test_every_metric_family_is_there_from_the_start(client):
    body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    for name in (
        "hub_uploads_started_total",
        "hub_uploads_completed_total",
        "hub_downloads_total",
        "hub_http_errors_total",
        "hub_unhandled_exceptions_total",
        "hub_task_duration_seconds",
        "hub_broker_up",
        "hub_queue_depth",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in body, name
    samples = scrape(client)
    assert value(samples, "hub_broker_up") == 1
    assert ("hub_queue_depth", (("queue", "heavy"),)) in samples
    assert ("hub_queue_depth", (("queue", "light"),)) in samples


def test_an_upload_is_counted_when_started_and_when_completed(client, creator, run_on_commit, settings):
    settings.UPLOAD_PART_SIZE = 5 * 1024 * 1024
    version = make_model(creator, publish=False).versions.get()
    client.force_login(creator)
    before = scrape(client)
    response = client.post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": "notes.txt", "size": 5, "type": "Training Data"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    file_id = response.json()["id"]
    middle = scrape(client)
    assert value(middle, "hub_uploads_started_total") == value(before, "hub_uploads_started_total") + 1
    assert value(middle, "hub_uploads_completed_total") == value(before, "hub_uploads_completed_total")

    url = client.post(f"/api/hub/uploads/{file_id}/parts/1").json()["url"]
    if url.startswith("http://testserver"):
        put = client.put(
            url.removeprefix("http://testserver"), b"hello", content_type="application/octet-stream"
        )
        assert put.status_code == 200
    else:
        import urllib.request

        request = urllib.request.Request(
            url, data=b"hello", method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        urllib.request.urlopen(request, timeout=30).close()
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    after = scrape(client)
    assert value(after, "hub_uploads_completed_total") == value(before, "hub_uploads_completed_total") + 1
    # The file went through the heavy queue's task; its run is in the histogram.
    assert ModelFile.objects.get(id=file_id).status == "ready"
    processed = ("task", "models_app.tasks.process_file"), ("state", "success")
    assert value(after, "hub_task_duration_seconds_count", **dict(processed)) >= 1
    assert value(after, "hub_task_duration_seconds_bucket", **dict(processed), le="+Inf") >= 1


def test_a_refused_upload_is_not_counted(client, creator):
    client.force_login(creator)
    before = scrape(client)
    response = client.post(
        "/api/hub/uploads", {"version_id": 0, "filename": "x.txt", "size": 5}, content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert value(scrape(client), "hub_uploads_started_total") == value(before, "hub_uploads_started_total")


def test_each_download_request_is_counted(client, creator, run_on_commit):
    version = publish_model(creator, run_on_commit)
    before = value(scrape(client), "hub_downloads_total")
    for _ in range(2):  # counted once a day on the model, but both are requests
        assert client.get(f"/api/download/models/{version.id}").status_code == 307
    assert client.head(f"/api/download/models/{version.id}").status_code == 307  # not a download
    assert value(scrape(client), "hub_downloads_total") == before + 2


def test_unhandled_exceptions_and_5xx_answers_are_counted(settings):
    settings.ROOT_URLCONF = "tests.ops.urls"
    client = Client(raise_request_exception=False)
    before = scrape(client)
    assert client.get("/boom").status_code == 500
    assert client.get("/unavailable").status_code == 503
    after = scrape(client)
    assert value(after, "hub_unhandled_exceptions_total", where="request") == (
        value(before, "hub_unhandled_exceptions_total", where="request") + 1
    )
    for status in ("500", "503"):
        assert value(after, "hub_http_errors_total", status=status) == (
            value(before, "hub_http_errors_total", status=status) + 1
        )


def test_a_failing_task_is_counted_as_an_unhandled_exception_with_its_duration():
    client = Client()
    before = scrape(client)
    # As in a worker: the error is the task's outcome, not the caller's exception.
    celery_app.conf.task_eager_propagates = False
    try:
        result = divide.delay(1, 0)
    finally:
        celery_app.conf.task_eager_propagates = True
    assert result.state == "FAILURE"
    after = scrape(client)
    assert value(after, "hub_unhandled_exceptions_total", where="task") == (
        value(before, "hub_unhandled_exceptions_total", where="task") + 1
    )
    assert value(after, "hub_task_duration_seconds_count", task="tests.ops.divide", state="failure") == 1


@pytest.mark.django_db(transaction=True)
def test_counts_from_other_processes_add_up_in_one_scrape(client):
    """Several gunicorn workers and the Celery workers each add to the same numbers."""
    before = value(scrape(client), "hub_downloads_total")
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings"}
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    code = "import django; django.setup(); from hub import metrics; metrics.add('hub_downloads')"
    others = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    metrics.add("hub_downloads")
    assert [process.wait(timeout=120) for process in others] == [0, 0]
    assert value(scrape(client), "hub_downloads_total") == before + 3
