from django.urls import path

from . import views

app_name = "community"

urlpatterns = [
    path("user/<str:username>", views.user_profile, name="user_profile"),
]
