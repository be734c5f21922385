"""The follow buttons (plain form POSTs, no script: the CSP allows none inline) and /feed/."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from models_app import preferences
from models_app.views import safe_next

from . import follows


@login_required
@require_POST
def follow_toggle(request, target_type: str, target_id: int):
    """Follow (action=follow) or unfollow (action=unfollow) a creator or a model, then go back."""
    target = follows.find_target(request.user, target_type, target_id)
    if target is None:
        raise Http404
    try:
        if request.POST.get("action") == "unfollow":
            follows.unfollow(follower=request.user, target=target)
        else:
            follows.follow(follower=request.user, target=target)
    except (ValidationError, follows.RateLimited) as exc:
        messages.error(request, exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
    return redirect(safe_next(request) or "community:feed")


@login_required
def feed(request):
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    items, has_next = follows.feed(request.user, levels=preferences.browsing(request).mask, page=page)
    following = follows.follows_of(request.user).exists()
    return render(
        request,
        "community/follows/feed.html",
        {"items": items, "page": page, "has_next": has_next, "following": following},
    )
