from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, render

from models_app.selectors import can_moderate, visible_models


def user_profile(request, username: str):
    """A creator's public page: who they are and what they published."""
    person = get_object_or_404(get_user_model(), username=username, is_active=True)
    models = (
        visible_models(request.user)
        .filter(owner=person)
        .prefetch_related("tags", "versions__base_model")
        .order_by("-published_at", "-created_at")
    )
    if not (request.user == person or can_moderate(request.user)):
        models = models.filter(status="published")
    return render(
        request,
        "community/user_profile.html",
        {"person": person, "models": models, "is_moderator": person.has_perm("models_app.moderate_content")},
    )
