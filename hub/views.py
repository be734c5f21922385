import sys

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from hub import unavailable

from .errors import error_body


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body(request.path, gettext("Not found")), status=404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    """Something the visitor can see but may not change (someone else's model): the reason, if the
    code gave one, else a plain sentence."""
    reason = str(exception) if exception and str(exception) else gettext("You may not change this.")
    if _wants_json(request):
        return JsonResponse(error_body(request.path, reason), status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def service_unavailable(request, reason: str, retry_after: int = unavailable.RETRY_AFTER):
    """A service the hub needs is down (hub/unavailable.py): a 503 that says which, and when to retry."""
    if _wants_json(request):
        response = JsonResponse(error_body(request.path, reason), status=503)
    else:
        response = render(request, "503.html", {"reason": reason}, status=503)
    response["Retry-After"] = str(retry_after)
    return response


def server_error(request):
    """Django's 500 handler, called with the failure being handled: a service that is down is a 503
    with its sentence (docs/faults.md), anything else the 500 of a bug."""
    explained = unavailable.explain(sys.exc_info()[1])
    if explained:
        return service_unavailable(request, *explained)
    if _wants_json(request):
        message = gettext("Something went wrong on our side; please try again.")
        return JsonResponse(error_body(request.path, message), status=500)
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    """A request Django refused before any view ran (too many fields or files, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, a bad host): a 400 that says which (docs/hostile-input.md)."""
    reasons = {
        "TooManyFieldsSent": gettext("The request has more than %(count)s fields.")
        % {"count": f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}"},
        "TooManyFilesSent": gettext("The request has more than %(count)s files.")
        % {"count": f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES:,}"},
        "RequestDataTooBig": gettext("The request body is too large for this address."),
    }
    reason = reasons.get(type(exception).__name__, gettext("The request could not be understood."))
    if _wants_json(request):
        return JsonResponse(error_body(request.path, reason), status=400)
    return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
