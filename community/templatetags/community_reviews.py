"""The reviews block of a version on the model page (docs/reviews.md): counts, your review with its
form, and the newest reviews. models_app's template loads this; models_app never imports community."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from community import reviews
from community.models import MAX_REVIEW_LENGTH
from models_app import page_cache
from models_app.page_batch import per_version

register = template.Library()

SHOWN = 10  # the newest reviews on the page; the rest through the API's pages


# The viewer's own part of a version's reviews, a hole of the model page kept for signed-in viewers
# (models_app/page_cache.py; community/apps.py registers it).
FORM_HOLE = "community/reviews/_review_form_hole.html"


@register.inclusion_tag("community/reviews/_version_reviews.html", takes_context=True)
def version_reviews(context, version, model):
    request = context["request"]
    user = request.user

    def fetch(versions):
        # Every version of the page at once: its newest reviews and the viewer's own review.
        ids = [v.id for v in versions]
        newest = reviews.newest_reviews(ids, SHOWN + 1)
        own = reviews.reviews_by(user, ids)
        return {vid: (newest[vid], own.get(vid)) for vid in ids}

    shown, own = per_version(context, version, "reviews", fetch)
    mine = None
    if user.is_authenticated:
        mine = next((r for r in shown if r.user_id == user.id), None) or own
    form = _form(context, model, version.id, mine)
    page_cache.note_part(request, FORM_HOLE, version.id, form)
    return {
        "version": version,
        "form": form,
        "reviews": shown[:SHOWN],
        "more": len(shown) > SHOWN,
        "up": version.thumbs_up_count,  # kept by community/reviews.py, no count query per version
        "down": version.thumbs_down_count,
    }


@register.simple_tag(takes_context=True)
def review_form(context, model, version_id: int, blank: str, reviewed=False):
    """One version's review form for request.user, drawn into the model page kept for signed-in
    viewers (FORM_HOLE). `reviewed`, read by the own-state query, says whether they reviewed any
    version of the model: their reviews are then looked up, once a request; a version they did not
    review shows the blank viewer's form."""
    request = context["request"]
    attr = f"_own_reviews_{model.pk}"
    if reviewed and not hasattr(request, attr):
        setattr(request, attr, reviews.model_reviews_by(request.user, model))
    mine = getattr(request, attr, {}).get(version_id)
    return mark_safe(blank) if mine is None else _form(context, model, version_id, mine)  # noqa: S308 - our own HTML


def _form(context, model, version_id: int, mine) -> str:
    user = context["request"].user
    return render_to_string(
        "community/reviews/_review_form.html",
        {
            "version_id": version_id,
            "user": user,
            "csrf_token": context.get("csrf_token"),
            "can_review": user.is_authenticated and user.id != model.owner_id,
            "mine": mine,
            "max_length": MAX_REVIEW_LENGTH,
            "login_url": f"/accounts/login/?next={model.get_absolute_url()}%23version-{version_id}",
        },
    )
