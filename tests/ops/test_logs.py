"""Log lines with a request id, as text or as JSON (docs/operations.md#logs)."""

import io
import json
import logging
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.request_id import RequestIdFilter
from tests.fresh_python import run_with_settings
from tests.ops.tasks import log_line

ROOT = Path(__file__).resolve().parent.parent.parent


@contextmanager
def console_output():
    """What the configured console handler writes, for the duration of the block."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_a_sane_request_id_from_the_proxy_is_kept_and_sent_back(client):
    response = client.get("/healthz", headers={"X-Request-ID": "Root=1-67891233-abcdef012345678912345678"})
    assert response["X-Request-ID"] == "Root=1-67891233-abcdef012345678912345678"


def test_each_request_without_an_id_gets_a_new_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@pytest.mark.parametrize("sent", ["two words", "x" * 129, '"quoted"', "line\\nbreak", "<script>", "é"])
def test_a_request_id_that_could_forge_or_flood_log_lines_is_replaced(client, sent):
    answered = client.get("/healthz", headers={"X-Request-ID": sent})["X-Request-ID"]
    assert answered != sent and re.fullmatch(r"[0-9a-f]{32}", answered)


@pytest.mark.django_db
def test_a_request_log_line_carries_the_request_id(client):
    with console_output() as output:
        response = client.get("/no-such-page-at-all", headers={"X-Request-ID": "trace-4242"})
    assert response.status_code == 404
    lines = [line for line in output.getvalue().splitlines() if "no-such-page-at-all" in line]
    assert lines and all("[trace-4242]" in line for line in lines), output.getvalue()


def test_a_task_log_line_carries_the_task_id():
    with console_output() as output:
        result = log_line.delay("the task says hello")
    line = next(line for line in output.getvalue().splitlines() if "the task says hello" in line)
    assert f"[{result.id}]" in line
    with console_output() as output:
        logging.getLogger("tests.ops").warning("after the task")
    assert "[-]" in output.getvalue()  # the task's id doesn't stick to later lines


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return run_with_settings(code, env)


def test_json_logs_are_one_object_a_line_with_level_logger_message_and_request_id():
    code = (
        "import django; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        "Client().get('/missing-page', headers={'X-Request-ID': 'req-json-1'})\n"
    )
    result = run_python(code, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    warning = next(record for record in records if "missing-page" in record["message"])
    assert warning["request_id"] == "req-json-1"
    assert warning["level"] == "WARNING" and warning["logger"] == "django.request"
    assert warning["time"]


def test_an_unknown_log_format_is_refused_with_its_name():
    result = run_python("from django.conf import settings; settings.LOGGING", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr
