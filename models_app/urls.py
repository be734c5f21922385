from django.urls import path

from . import views

app_name = "models_app"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("models/<int:pk>", views.model_detail, name="model_detail"),
    path("models/<int:pk>/<str:slug>", views.model_detail, name="model_detail_slug"),
]
