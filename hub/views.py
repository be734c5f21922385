from django.conf import settings
from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from .errors import error_body


def healthz(request):
    """For load balancers and docker-compose: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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


def server_error(request):
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
