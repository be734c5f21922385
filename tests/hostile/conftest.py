"""The hostile-input suite (docs/hostile-input.md): every test in this directory also fails when the
hub logged an error while it ran. Django logs every 5xx answer, and every unhandled exception, on
`django.request` at ERROR; a worker task that blew up logs at ERROR too. So a test that only checks
its own status codes still catches the 500 or the traceback it did not look for."""

import logging

import pytest
from django.core.signals import got_request_exception


@pytest.fixture(autouse=True)
def no_server_error(caplog):
    """Fails the test if any request raised, any 5xx was answered or anything logged at ERROR."""
    raised = []

    def record(sender, request=None, **kwargs):
        raised.append(getattr(request, "path", "?"))

    got_request_exception.connect(record)
    caplog.set_level(logging.WARNING)
    yield
    got_request_exception.disconnect(record)
    errors = [
        f"{record.name}: {record.getMessage()[:300]}"
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
    ]
    assert not raised, f"unhandled exception while answering {raised}"
    assert not errors, "logged at ERROR:\n" + "\n".join(errors)
