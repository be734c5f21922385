from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("models_app.download_urls")),
    path("", include("models_app.civitai_urls")),
    path("", include("community.urls")),
    path("", include("models_app.urls")),
]

handler404 = "hub.views.not_found"
handler500 = "hub.views.server_error"
