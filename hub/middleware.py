"""Request checks that apply to every view."""

import contextlib
import ipaddress
import logging
import socket
import threading
import uuid

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, UnreadablePostError
from django.utils.translation import gettext

from models_app.page_cache import WROTE_COOKIE

from .errors import error_body

logger = logging.getLogger(__name__)


class ForwardedForMiddleware:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, the visitor's address is in X-Forwarded-For.

    Each proxy appends the address it received the request from, so counting `hops` entries from
    the right gives the address the outermost trusted proxy saw; what a visitor wrote further left
    is never believed. REMOTE_ADDR then holds it, for the per-address rate limits and the logs
    (docs/operations.md#behind-a-proxy). Without the header, or with a malformed entry, REMOTE_ADDR
    stays the proxy's address.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hops = settings.TRUSTED_PROXY_HOPS
        if hops > 0:
            chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            chain = [part for part in chain if part]
            if len(chain) >= hops:
                try:
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(chain[-hops]))
                except ValueError:
                    pass
        return self.get_response(request)


class RejectNulCharactersMiddleware:
    """A NUL character in the path or the query string is refused with a 400 before any view runs.

    PostgreSQL cannot store or even compare text containing NUL, so such a value reaching a query
    would be a 500 (docs/hostile-input.md, items 15 and 16). Form and API fields are covered by the
    NUL validators of Django's and DRF's CharField.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.GET.items()
        ):
            message = "The request contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(request.path, message), status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


class BoundedClientReadsMiddleware:
    """A client that sends its body slowly (slowloris) or stops half-way holds a server thread for a
    bounded time, then is cut off with a 4xx (docs/hostile-input.md#slow-clients).

    gunicorn (gthread and sync workers) reads the body with a blocking socket and no timeout of its
    own, so one stalled upload part would hold a thread for as long as its client keeps the connection
    open. Two bounds, both on the socket gunicorn hands the app (`gunicorn.socket`):

    - a stall: REQUEST_READ_TIMEOUT seconds without a byte (a socket timeout, per read or write, so a
      slow but steady download is not cut); Django raises UnreadablePostError, answered 408 below;
    - a trickle: the whole body must arrive within REQUEST_READ_TIMEOUT plus its length at
      REQUEST_BODY_MIN_RATE bytes a second. gunicorn keeps reading until it has the bytes asked for,
      so a client sending one byte a second never stalls; at the deadline a timer shuts the socket's
      reading side, the body ends short and the view refuses it (400: the part ended early).

    Without gunicorn (the test client, `runserver`) there is no socket and nothing is bounded.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sock = request.META.get("gunicorn.socket")
        timeout = settings.REQUEST_READ_TIMEOUT
        if sock is None or timeout <= 0:
            return self.get_response(request)
        sock.settimeout(timeout)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0 or settings.REQUEST_BODY_MIN_RATE <= 0:
            return self.get_response(request)
        timer = threading.Timer(timeout + length / settings.REQUEST_BODY_MIN_RATE, _stop_reading, [sock])
        timer.daemon = True
        timer.start()
        try:
            return self.get_response(request)
        finally:
            timer.cancel()

    def process_exception(self, request, exception):
        if not isinstance(exception, UnreadablePostError):
            return None
        sock = request.META.get("gunicorn.socket")
        if sock is not None:
            # The rest of the body will never be read: stop receiving, so gunicorn closes the connection
            # after this answer instead of waiting on it for the next request.
            _stop_reading(sock)
        logger.warning(
            "The request body stopped arriving: %s %s (%s)", request.method, request.path, exception
        )
        message = gettext("The request body stopped arriving; send the request again.")
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(request.path, message), status=408)
        return HttpResponse(message, status=408, content_type="text/plain; charset=utf-8")


class WroteCookieMiddleware:
    """Every unsafe request from a browser with a session (a form, a reaction, signing in) gets the
    WROTE_COOKIE set to a new value. The model page kept for one viewer holds it in its key, so what
    they just did shows on it at once (models_app/page_cache.py). Tools with an API key have no
    session and get no cookie."""

    SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = settings.SESSION_COOKIE_NAME
        if request.method not in self.SAFE_METHODS and (
            session in request.COOKIES or session in response.cookies
        ):
            response.set_cookie(
                WROTE_COOKIE,
                uuid.uuid4().hex,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _stop_reading(sock) -> None:
    """Ends the request body where it is: the next read sees the end of the stream."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
