from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("billing/webhook/", views.webhook, name="webhook"),
    path("pricing/", views.pricing, name="pricing"),
]
