import secrets

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST

import billing
from models_app import levels, preferences
from models_app.preferences import Browsing
from models_app.selectors import can_moderate, in_levels, mark_blurred, model_cards, visible_models

from . import collections, profiles, services
from .forms import ApiKeyForm
from .models import ApiKey


def _mark_blurred_images(shown: list, browsing: Browsing) -> list:
    """Flag the profile images above the viewer's levels that blur mode lists blurred."""
    for image in shown:
        image.blurred = browsing.blurs(image.level)
        image.level_label = levels.label(image.level)
    return shown


def user_profile(request, username: str):
    """A creator's public page: who they are, what they published and what they collected
    (docs/profiles.md). A bounded number of queries, whatever they published."""
    person = get_object_or_404(get_user_model(), username=username, is_active=True)
    # The catalog's one visibility rule: drafts show to their creator and to moderators only.
    models = visible_models(request.user).filter(owner=person)
    # Their own page shows a creator everything of theirs; others see their levels, hidden or blurred.
    own = request.user == person
    browsing = Browsing(levels.EVERYTHING) if own else preferences.browsing(request)
    models = models.filter(in_levels(browsing.listed))
    cards = mark_blurred(
        model_cards(list(models.order_by("-published_at", "-created_at").values_list("id", flat=True)[:200])),
        browsing,
    )
    profile = profiles.profile_of(person)
    return render(
        request,
        "community/user_profile.html",
        {
            "person": person,
            "models": cards,
            "is_moderator": can_moderate(person),
            "profile": profile,
            "avatar": profiles.avatar_state(profile),
            "stats": profiles.profile_stats(person, request.user),
            "images": _mark_blurred_images(
                profiles.images_of(person, request.user, levels=browsing.listed), browsing
            ),
            "collections": list(collections.collections_of(person, request.user)[:50]),
        },
    )


# Each rendered create form carries a one-time token (kept in the session; the key never is), so
# a reload of the page that showed a new key, which browsers answer by sending the POST again,
# doesn't quietly make a second key.
FORM_TOKENS = "api_key_form_tokens"


def _new_form_token(request) -> str:
    token = secrets.token_urlsafe(16)
    request.session[FORM_TOKENS] = [*request.session.get(FORM_TOKENS, [])[-4:], token]  # a few tabs
    return token


def _use_form_token(request) -> bool:
    tokens = request.session.get(FORM_TOKENS, [])
    sent = request.POST.get("form_token", "")
    if sent not in tokens:
        return False
    request.session[FORM_TOKENS] = [t for t in tokens if t != sent]
    return True


@login_required
def api_keys(request):
    """The user's API keys: the list, and a form to create one. A new key is shown in the answer to
    the POST that created it and nowhere else: not in the session, not in a URL, never again."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and not _use_form_token(request):
        messages.info(
            request,
            gettext(
                "That form was already sent (did the page reload?), so no new key was made. "
                "A key is shown only once, right after it is created; your keys are listed below."
            ),
        )
        return redirect("community:api_keys")
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = services.create_api_key(
                user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            new_key = {"name": key.name, "raw": raw, "scope": key.get_scope_display()}
            form = ApiKeyForm()
    keys = ApiKey.objects.filter(user=request.user).order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-id"
    )
    response = render(
        request,
        "community/api_keys.html",
        {
            "form": form,
            "new_key": new_key,
            "keys": keys,
            "active_count": sum(1 for k in keys if k.revoked_at is None),
            "max_active": billing.entitlements(request.user).max_api_keys,
            "form_token": _new_form_token(request),
        },
    )
    add_never_cache_headers(response)  # the back button must not bring a shown key back from a cache
    return response


@login_required
@require_POST
def revoke_api_key(request, key_id: int):
    key = get_object_or_404(ApiKey, id=key_id, user=request.user)  # someone else's key: 404, as missing
    services.revoke_api_key(key=key)
    messages.success(
        request,
        gettext("Revoked “%(name)s” (%(prefix)s…): tools using it are refused from now on.")
        % {"name": key.name, "prefix": key.prefix},
    )
    return redirect("community:api_keys")


def set_language(request):
    """The header's language switcher (templates/_language_switcher.html): Django's set_language
    (the cookie, the redirect back), and for a signed-in user the choice kept on their profile so
    emails sent without a request use it too (docs/i18n.md)."""
    response = i18n_views.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        profiles.remember_language(request.user, request.POST.get("language", ""))
    return response
