"""A request id on every log line (docs/operations.md#logs).

The middleware takes the caller's `X-Request-ID` when it is a sane token (a load balancer or proxy
that already assigned one keeps it end to end), else makes a new one, and answers with it in the
`X-Request-ID` header. The id lives in a context variable for the request's duration; the logging
filter copies it onto each record. In a Celery worker the task id plays that part (hub/celery.py).
"""

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Letters, digits and a few separators, at most 128 characters: enough for UUIDs and the ids of
# common proxies (AWS ALB's "Root=1-...", Heroku's, nginx's $request_id), never a log-injection vector
# (newlines, quotes, control characters) nor an unbounded string.
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")
HEADER = "X-Request-ID"


def valid_request_id(value: str | None) -> str | None:
    if value and _VALID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = valid_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the request's, the Celery task's, else "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx or 5xx answer after the middleware returned, with the request attached.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True
