"""Downloads behind a CDN (docs/operations.md#downloads-behind-a-cdn): the redirect is never cached,
its target may be served by a CDN, and the file's bytes say who may keep them."""

import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from models_app.downloads import PRIVATE_FILE_CACHE, PUBLIC_FILE_CACHE
from models_app.models import AIModel
from models_app.storage import is_s3
from tests.factories import publish_model

pytestmark = pytest.mark.django_db
CDN = "https://cdn.example.net"


def fetch_from_origin(client, settings, location: str):
    """What the CDN does on a miss: the same path and query, asked of its origin."""
    target = urlsplit(location)
    if is_s3():
        origin = settings.S3_PUBLIC_ENDPOINT_URL or settings.S3_ENDPOINT_URL
        with urllib.request.urlopen(f"{origin}{target.path}?{target.query}", timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    response = client.get(f"{target.path}?{target.query}")
    return response.status_code, response.headers, b"".join(response.streaming_content)


def test_the_redirect_points_at_the_cdn_and_is_never_cached(client, creator, run_on_commit, settings):
    settings.DOWNLOAD_CDN_URL = CDN
    version = publish_model(creator, run_on_commit)
    response = client.get(f"/api/download/models/{version.id}")
    assert response.status_code == 307
    assert response["Cache-Control"] == "no-store, max-age=0"  # who may download is decided each time
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == CDN
    status, headers, body = fetch_from_origin(client, settings, response["Location"])
    assert status == 200 and body
    # Anyone may download this version: shared caches may keep the bytes, browsers for long.
    assert headers["Cache-Control"] == PUBLIC_FILE_CACHE


def test_a_file_only_some_may_download_is_private_to_the_browser(
    client, creator, fan, run_on_commit, settings
):
    settings.DOWNLOAD_CDN_URL = CDN
    version = publish_model(creator, run_on_commit)
    AIModel.objects.filter(id=version.model_id).update(require_login=True)
    client.force_login(fan)
    response = client.get(f"/api/download/models/{version.id}")
    assert response.status_code == 307
    status, headers, _ = fetch_from_origin(client, settings, response["Location"])
    assert status == 200
    assert headers["Cache-Control"] == PRIVATE_FILE_CACHE


def test_without_a_cdn_the_redirect_goes_to_the_hub_or_the_bucket(client, creator, run_on_commit, settings):
    settings.DOWNLOAD_CDN_URL = ""
    version = publish_model(creator, run_on_commit)
    location = urlsplit(client.get(f"/api/download/models/{version.id}")["Location"])
    if is_s3():
        expected = urlsplit(settings.S3_PUBLIC_ENDPOINT_URL or settings.S3_ENDPOINT_URL).netloc
        assert location.netloc == expected
        assert parse_qs(location.query)["response-cache-control"] == [PUBLIC_FILE_CACHE]
    else:
        assert location.netloc == "testserver" and location.path.startswith("/files/")
