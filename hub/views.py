import sys

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from psycopg_pool import PoolTimeout


def healthz(request):
    """For load balancers and docker-compose: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": gettext("Not found")}, status=404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    """Something the visitor can see but may not change (someone else's model): the reason, if the
    code gave one, else a plain sentence."""
    reason = str(exception) if exception and str(exception) else gettext("You may not change this.")
    if _wants_json(request):
        return JsonResponse({"error": reason}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def _waited_for_a_connection() -> bool:
    """The request being answered failed because every pooled database connection stayed busy for
    DB_POOL_TIMEOUT seconds (docs/scaling-database.md#when-the-pool-is-empty). Django calls the
    500 handler while handling the exception, and wraps psycopg's errors in its own."""
    error = sys.exc_info()[1]
    while error is not None:
        if isinstance(error, PoolTimeout):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request):
    if _waited_for_a_connection():  # overload, not a defect: say so, and when to come back
        message = gettext("The hub is busy; please try again in a moment.")
        if _wants_json(request):
            response = JsonResponse({"error": message}, status=503)
        else:
            response = render(request, "500.html", status=503)
        response["Retry-After"] = "5"
        return response
    if _wants_json(request):
        return JsonResponse(
            {"error": gettext("Something went wrong on our side; please try again.")}, status=500
        )
    return render(request, "500.html", status=500)
