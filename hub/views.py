from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext


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


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"error": gettext("Something went wrong on our side; please try again.")}, status=500
        )
    return render(request, "500.html", status=500)
