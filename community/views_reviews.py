"""The model page's review form posts here (plain POST, no script), and every review of a version
has its own paginated page; the API is reviews_api.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from . import reviews


def _back(version):
    return redirect(f"{version.model.get_absolute_url()}#version-{version.id}")


@login_required
@require_POST
def review_version(request, version_id: int):
    version = reviews.reviewable_version(request.user, version_id)
    choice = request.POST.get("recommended")
    if choice not in ("yes", "no"):
        messages.error(request, gettext("Choose Recommend or Not recommend."))
        return _back(version)
    try:
        _, created = reviews.submit_review(
            request.user, version, choice == "yes", request.POST.get("text", "")
        )
    except reviews.ReviewRefused as refused:
        messages.error(request, refused.message)
        return _back(version)
    messages.success(
        request, gettext("Your review is saved.") if created else gettext("Your review is updated.")
    )
    return _back(version)


@login_required
@require_POST
def delete_review(request, version_id: int):
    version = reviews.reviewable_version(request.user, version_id)
    if reviews.delete_review(request.user, version):
        messages.success(request, gettext("Your review is deleted."))
    return _back(version)


REVIEWS_PER_PAGE = 30


def version_reviews(request, version_id: int):
    """All visible reviews of a version, newest first (the model page shows the newest ten)."""
    version = reviews.reviewable_version(request.user, version_id)
    page = Paginator(reviews.visible_reviews(version), REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/reviews/all.html",
        {"version": version, "model": version.model, "page_obj": page},
    )
