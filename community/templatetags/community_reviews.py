"""The reviews block of a version on the model page (docs/reviews.md): counts, your review with its
form, and the newest reviews. models_app's template loads this; models_app never imports community."""

from django import template

from community import reviews
from community.models import MAX_REVIEW_LENGTH
from models_app.page_batch import per_version

register = template.Library()

SHOWN = 10  # the newest reviews on the page; the rest through the API's pages


@register.inclusion_tag("community/reviews/_version_reviews.html", takes_context=True)
def version_reviews(context, version, model):
    user = context["request"].user

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
    return {
        "version": version,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "can_review": user.is_authenticated and user.id != model.owner_id,
        "mine": mine,
        "reviews": shown[:SHOWN],
        "more": len(shown) > SHOWN,
        "up": version.thumbs_up_count,  # kept by community/reviews.py, no count query per version
        "down": version.thumbs_down_count,
        "max_length": MAX_REVIEW_LENGTH,
        "login_url": f"/accounts/login/?next={model.get_absolute_url()}%23version-{version.id}",
    }
