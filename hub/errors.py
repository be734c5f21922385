"""The body of an error answered outside an API view. Imports nothing from Django REST framework:
the middleware imports it, and DRF's settings import hub.api."""

from .openapi import HUB_API_PREFIX


def error_body(path: str, message: str) -> dict:
    """The body of an error answered outside a view (no route, NUL in the URL, a client gone): the hub's
    own API says `{"detail": ...}` like its views and its schema (docs/hostile-input.md#api-fuzzing);
    the CivitAI and Hugging Face APIs, whose clients read `error`, say `{"error": ...}`."""
    return {"detail": message} if path.startswith(HUB_API_PREFIX) else {"error": message}
