"""Request checks that apply to every view."""

import contextlib
import logging
import socket

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, UnreadablePostError
from django.utils.translation import gettext

from .api import error_body

logger = logging.getLogger(__name__)


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
    """A client that sends its body slowly (slowloris) or stops half-way holds a server thread only
    for REQUEST_READ_TIMEOUT seconds between two reads, then gets a 408 (docs/hostile-input.md#slow-clients).

    gunicorn (gthread and sync workers) reads the body with a blocking socket and no timeout of its
    own, so one stalled upload part would hold a thread for as long as its client keeps the connection
    open. The timeout is set on the socket gunicorn hands the app (`gunicorn.socket`); it applies to
    each read or write, not to the whole request, so a slow but steady download is not cut. A body that
    stops arriving surfaces as Django's UnreadablePostError wherever it is read (DRF's parsers, a
    view streaming a part to disk, a form); answering it here covers them all.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sock = request.META.get("gunicorn.socket")
        if sock is not None and settings.REQUEST_READ_TIMEOUT > 0:
            sock.settimeout(settings.REQUEST_READ_TIMEOUT)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UnreadablePostError):
            return None
        sock = request.META.get("gunicorn.socket")
        if sock is not None:
            # The rest of the body will never be read: stop receiving, so gunicorn closes the connection
            # after this answer instead of waiting on it for the next request.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
        logger.warning(
            "The request body stopped arriving: %s %s (%s)", request.method, request.path, exception
        )
        message = gettext("The request body stopped arriving; send the request again.")
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(request.path, message), status=408)
        return HttpResponse(message, status=408, content_type="text/plain; charset=utf-8")
