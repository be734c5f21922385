from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, render

from models_app.selectors import can_moderate, model_cards, visible_models


def user_profile(request, username: str):
    """A creator's public page: who they are and what they published."""
    person = get_object_or_404(get_user_model(), username=username, is_active=True)
    models = visible_models(request.user).filter(owner=person)
    if not (request.user == person or can_moderate(request.user)):
        models = models.filter(status="published")
    cards = model_cards(
        list(models.order_by("-published_at", "-created_at").values_list("id", flat=True)[:200])
    )
    return render(
        request,
        "community/user_profile.html",
        {"person": person, "models": cards, "is_moderator": person.has_perm("models_app.moderate_content")},
    )
