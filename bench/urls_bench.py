"""hub.urls plus /bench/baseline: the cheapest useful page, to compare real pages with.

The baseline is a bare Django view (no template, no DRF, no session or user lookup) running one
indexed SELECT of 100 rows (the (status, -published_at) index) and returning them as JSON. A page
that costs a few times the baseline is doing a few times more work per request than Django's floor.
"""

from django.http import JsonResponse
from django.urls import path

from hub.urls import handler404, handler500  # noqa: F401
from hub.urls import urlpatterns as hub_urlpatterns
from models_app.models import AIModel, PublishStatus


def baseline(request):
    rows = list(
        AIModel.objects.filter(status=PublishStatus.PUBLISHED)
        .order_by("-published_at", "-id")
        .values("id", "name", "slug", "type", "download_count")[:100]
    )
    return JsonResponse({"items": rows})


urlpatterns = [path("bench/baseline", baseline, name="bench_baseline"), *hub_urlpatterns]
