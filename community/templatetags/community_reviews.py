"""The reviews block of a version on the model page (docs/reviews.md): counts, your review with its
form, and the newest reviews. models_app's template loads this; models_app never imports community."""

from django import template
from django.template.loader import render_to_string

from community import reviews
from community.models import MAX_REVIEW_LENGTH
from models_app import page_cache
from models_app.page_batch import per_version

register = template.Library()

SHOWN = 10  # the newest reviews on the page; the rest through the API's pages


# The viewer's own part of a version's reviews, its form: parts of the model page kept for
# signed-in viewers (models_app/page_cache.py; community/apps.py registers them).
FORM_PART = "community.review_form"


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
    form = _form(user, model, version.id, mine, context.get("csrf_token"))
    page_cache.note_part(request, FORM_PART, version.id, form)
    return {
        "version": version,
        "form": form,
        "reviews": shown[:SHOWN],
        "more": len(shown) > SHOWN,
        "up": version.thumbs_up_count,  # kept by community/reviews.py, no count query per version
        "down": version.thumbs_down_count,
    }


def draw_review_forms(request, model, version_ids: list[int], csrf_token: str) -> dict[int, str]:
    """The forms of the versions request.user reviewed, for the kept model page (FORM_PART): their
    reviews of the model in one query; the other versions keep the blank viewer's form."""
    mine = reviews.model_reviews_by(request.user, model)
    return {vid: _form(request.user, model, vid, mine[vid], csrf_token) for vid in version_ids if vid in mine}


def _form(user, model, version_id: int, mine, csrf_token) -> str:
    return render_to_string(
        "community/reviews/_review_form.html",
        {
            "version_id": version_id,
            "user": user,
            "csrf_token": csrf_token,
            "can_review": user.is_authenticated and user.id != model.owner_id,
            "mine": mine,
            "max_length": MAX_REVIEW_LENGTH,
            "login_url": f"/accounts/login/?next={model.get_absolute_url()}%23version-{version_id}",
        },
    )
