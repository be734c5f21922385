"""A service that is down is a 503 with a sentence, never a 500 (docs/faults.md); the fault suite in
tests/faults causes the real faults, these check the shared mechanism on every run."""

import errno
import json
import socket

import pytest
from botocore.exceptions import EndpointConnectionError
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from hub.cache import ResilientRedisCache
from hub.views import server_error
from models_app import rate_limits


def _answer(rf, path: str, exc: Exception, **headers):
    """What Django's 500 handler answers while `exc` is being handled, as it is for a real request."""
    request = rf.get(path, **headers)
    try:
        raise exc
    except Exception:
        return server_error(request)


@pytest.mark.parametrize(
    ("exc", "sentence"),
    [
        (OperationalError("server closed the connection unexpectedly"), "The database is not answering"),
        (BrokerError("Error 111 connecting to 127.0.0.1:6379"), "task queue is not answering"),
        (EndpointConnectionError(endpoint_url="http://s3:9000/b"), "File storage is not answering"),
        (OSError(errno.ENOSPC, "No space left on device"), "file storage is full, so nothing was saved"),
    ],
)
def test_a_service_that_is_down_is_a_503_json_answer_with_a_sentence(rf, exc, sentence):
    response = _answer(rf, "/api/hub/uploads/1/complete", exc)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert sentence in json.loads(response.content)["detail"]


def test_a_page_whose_database_is_down_is_a_503_page_with_the_sentence(rf):
    response = _answer(rf, "/models/", OperationalError("connection refused"))
    assert response.status_code == 503
    assert b"The database is not answering right now" in response.content
    assert b"Traceback" not in response.content


def test_the_sentence_is_in_french_for_a_french_visitor(rf):
    from django.utils import translation

    with translation.override("fr"):
        response = _answer(rf, "/api/hub/models", OperationalError("connection refused"))
    assert "La base de données ne répond pas" in json.loads(response.content)["detail"]


def test_a_bug_is_still_a_500(rf):
    response = _answer(rf, "/api/hub/models", ValueError("a bug"))
    assert response.status_code == 500


def test_a_failure_wrapped_in_another_is_recognised(rf):
    try:
        raise OSError(errno.ENOSPC, "No space left on device")
    except OSError as full:
        wrapped = RuntimeError("could not save")
        wrapped.__cause__ = full
    assert _answer(rf, "/api/hub/models", wrapped).status_code == 503


@pytest.fixture
def unreachable_redis(settings):
    """The hub's Redis cache pointed at a port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ResilientRedisCache(
        f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    )


def test_an_unreachable_redis_cache_is_a_miss_and_rate_limits_let_requests_through(
    unreachable_redis, monkeypatch, caplog
):
    cache = unreachable_redis
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", 42) == 42
    cache.set("k", 1)
    cache.delete("k")
    assert cache.add("lock", True) is True  # allauth's rate-limit lock: granted, not a 429 for everyone
    with pytest.raises(ValueError):
        cache.incr("counter")
    monkeypatch.setattr(rate_limits, "cache", cache)
    assert rate_limits.over_limit("download", "someone", 1) is False
    assert "Redis is unreachable" in caplog.text
