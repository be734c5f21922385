"""Views that fail on purpose, for the metrics and error tests (tests/ops/)."""

from django.http import HttpResponse
from django.urls import include, path


def boom(request):
    raise RuntimeError("a bug nobody caught")


def unavailable(request):
    return HttpResponse("down for maintenance", status=503)


urlpatterns = [
    path("boom", boom),
    path("unavailable", unavailable),
    path("", include("hub.urls")),
]
