from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from community import views as community_views
from compat.hf import urls as hf_urls
from resources import urls_images as image_urls

from . import health, metrics
from .url_memo import RememberingResolver

hub_patterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Liveness, readiness and Prometheus metrics (docs/operations.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The header's language switcher posts here: Django's set_language, and a signed-in user's choice
    # kept for the emails sent without a request (community/views.set_language, docs/i18n.md).
    path("i18n/setlang/", community_views.set_language, name="set_language"),
    # The scripts' French (locale/fr/LC_MESSAGES/djangojs.po): gettext() and interpolate() for static/js.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # OpenAPI schema of the hub's own API (YAML; ?format=json for JSON) and Swagger UI over it.
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file, and templates/drf_spectacular/
    # moves the page's <style> block to a static file: the CSP holds here too (docs/security.md).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include("billing.urls")),
    path("", include("models_app.download_urls")),
    path("", include(image_urls.file_urlpatterns)),
    path("", include("resources.urls_images")),
    path("", include("compat.civitai.urls")),
    path("", include("community.urls")),
    path("", include("community.urls_reviews")),
    path("", include("community.urls_notifications")),
    path("", include("community.urls_collections")),
    path("", include("community.urls_lineage")),
    path("", include("community.urls_comments")),
    path("", include("moderation.urls")),
    path("", include("models_app.urls")),
    path("", include("resources.urls_workflows")),
    path("", include("resources.urls_wildcards")),
    path("", include("compat.hf.urls")),
    # Last: /<namespace>/<name>/resolve/<rev>/<path> must never shadow the hub's own pages.
    path("", include(hf_urls.resolve_urlpatterns)),
]

# Resolved once a path (hub/url_memo.py): a model page's path goes through most of the list above.
urlpatterns = [RememberingResolver(hub_patterns)]

handler400 = "hub.views.bad_request"
handler403 = "hub.views.forbidden"
handler404 = "hub.views.not_found"
handler500 = "hub.views.server_error"
