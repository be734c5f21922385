from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("billing/webhook/", views.webhook, name="webhook"),
    path("pricing/", views.pricing, name="pricing"),
    path("billing/checkout/<int:plan_id>/", views.checkout, name="checkout"),
    path("billing/portal/", views.portal, name="portal"),
    path("billing/tip/<str:username>/", views.tip, name="tip"),
    path("billing/earnings/", views.earnings, name="earnings"),
]
