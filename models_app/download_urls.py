"""Download URLs (docs/downloads.md), included at the site root by hub/urls.py.

The paths are CivitAI's, so its clients work unchanged; names are unnamespaced for that reason.
"""

from django.urls import path

from . import download_views

urlpatterns = [
    path("api/download/models/<int:version_id>", download_views.download_version, name="download_version"),
    # <path:...> so that any name or junk (an encoded "/", NUL) still reaches the view and gets JSON.
    path("files/<str:sha256>/<path:name>", download_views.serve_file, name="serve_file"),
]
