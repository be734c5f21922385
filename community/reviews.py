"""Reviews: one per user per version, recommend or not, optional Markdown text (docs/reviews.md).

A review's vote lives in the model's thumbs_up_count / thumbs_down_count / rating, which cards, model
pages and the CivitAI API read. Each write applies only its DELTA with F() updates inside the same
transaction that changes the review row, so the counts stay exact under concurrent votes
(docs/reviews.md#counts)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, FloatField, QuerySet, Value, When, Window
from django.db.models.functions import Cast, RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from models_app import rate_limits, sanctions, selectors
from models_app.compiled import Built
from models_app.dates import iso_z
from models_app.models import AIModel, ModelVersion
from models_app.text import render_markdown

from . import abuse, notifications
from .models import MAX_REVIEW_LENGTH, Review, ReviewStatus
from .refusals import Refused, check_text


class ReviewRefused(Refused):
    """A reviews write refused: status and sentence (community/refusals.py)."""


def reviewable_version(user, version_id: int) -> ModelVersion:
    """The version if `user` may see it, else Http404 (a draft is not confirmed to exist)."""
    version = selectors.visible_version(user, version_id)
    if version is None:
        raise Http404
    return version


def visible_reviews(version: ModelVersion) -> QuerySet[Review]:
    """The reviews everyone sees, newest first; hidden ones are kept but listed nowhere."""
    return (
        Review.objects.filter(version=version, status=ReviewStatus.VISIBLE)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


def newest_reviews(version_ids, count: int) -> dict[int, list[Review]]:
    """The `count` newest visible reviews of each version, as visible_reviews orders them, in one
    query for all (a window function, on SQLite too), for the model page's versions."""
    found: dict[int, list[Review]] = {vid: [] for vid in version_ids}
    if not found:
        return found
    ranked = (
        Review.objects.filter(version_id__in=list(found), status=ReviewStatus.VISIBLE)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("version_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=count)
        .select_related("user")
        .order_by("version_id", "-created_at", "-id")
    )
    for review in ranked:
        found[review.version_id].append(review)
    return found


def reviews_by(user, version_ids) -> dict[int, Review]:
    """`user`'s own review of each of these versions that has one, hidden ones too (one query)."""
    if not user.is_authenticated:
        return {}
    return {r.version_id: r for r in Review.objects.filter(user=user, version_id__in=list(version_ids))}


def _over_rate_limit(user) -> bool:
    """More than REVIEW_RATE_LIMIT review writes this minute by this user."""
    return rate_limits.over_limit("review-rate", user.id, settings.REVIEW_RATE_LIMIT)


def _check_writer(user, version: ModelVersion) -> None:
    if version.model.owner_id == user.id:
        raise ReviewRefused(400, gettext("You can't review your own model."))
    refusal = sanctions.write_refusal(user)  # muted or suspended by moderators
    if refusal:
        raise ReviewRefused(403, refusal)
    if abuse.too_new_to_write(user, settings.REVIEW_MIN_ACCOUNT_AGE):
        raise ReviewRefused(
            403,
            gettext(
                "Confirm your email address first, or wait until your account is an hour old, to review."
            ),
        )
    if _over_rate_limit(user):
        raise ReviewRefused(429, gettext("Too many reviews in a minute; try again shortly."))


def _apply_vote(version: ModelVersion, old: bool | None, new: bool | None) -> None:
    """Moves the version's and the model's counters from vote `old` to vote `new` (None: no counted
    vote), in the caller's transaction. F() makes the database add the delta to the current value,
    whatever others did; version first, then model, in every path, so two writers never deadlock."""
    up = int(new is True) - int(old is True)
    down = int(new is False) - int(old is False)
    if not up and not down:
        return
    model_id = version.model_id
    ModelVersion.objects.filter(id=version.id).update(
        thumbs_up_count=F("thumbs_up_count") + up, thumbs_down_count=F("thumbs_down_count") + down
    )
    AIModel.objects.filter(id=model_id).update(
        thumbs_up_count=F("thumbs_up_count") + up, thumbs_down_count=F("thumbs_down_count") + down
    )
    # The same transaction holds the row lock the first UPDATE took, so this reads our own counts.
    AIModel.objects.filter(id=model_id).update(
        rating=Case(
            When(thumbs_up_count=0, thumbs_down_count=0, then=Value(0.0)),
            default=Cast(F("thumbs_up_count"), FloatField())
            / Cast(F("thumbs_up_count") + F("thumbs_down_count"), FloatField()),
            output_field=FloatField(),
        )
    )


def _counted(review: Review | None) -> bool | None:
    if review is None or review.status != ReviewStatus.VISIBLE:
        return None
    return review.recommended


def submit_review(user, version: ModelVersion, recommended: bool, text: str = "") -> tuple[Review, bool]:
    """Creates or replaces `user`'s review of `version`; returns it and whether it is new."""
    _check_writer(user, version)
    text = (text or "").strip()
    if len(text) > MAX_REVIEW_LENGTH:
        raise ReviewRefused(
            400,
            gettext("A review is at most %(count)s characters.")
            % {"count": number_format(MAX_REVIEW_LENGTH, force_grouping=True)},
        )
    check_text(ReviewRefused, text=text)
    now = timezone.now()
    html = render_markdown(text) if text else ""
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(user=user, version=version).first()
        created = False
        if review is None:
            try:
                with transaction.atomic():  # a savepoint: a racing first review of the same user
                    review = Review.objects.create(
                        user=user, version=version, recommended=recommended, text=text, text_html=html
                    )
                    created = True
            except IntegrityError:
                review = Review.objects.select_for_update().get(user=user, version=version)
        if created:
            _apply_vote(version, None, _counted(review))
            notifications.notify_review(review)  # a new review only; editing tells nobody again
            return review, True
        old = _counted(review)
        review.recommended, review.text, review.text_html, review.updated_at = recommended, text, html, now
        review.save(update_fields=["recommended", "text", "text_html", "updated_at"])
        _apply_vote(version, old, _counted(review))
    return review, False


def delete_review(user, version: ModelVersion) -> bool:
    """Deletes `user`'s review of `version`; False when there was none."""
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(user=user, version=version).first()
        if review is None:
            return False
        old = _counted(review)
        review.delete()
        _apply_vote(version, old, None)
    return True


def set_review_status(review: Review, status: str) -> None:
    """Hides or shows a review again (moderation), moving its vote out of or back into the counts in
    the same transaction."""
    with transaction.atomic():
        review = Review.objects.select_for_update().select_related("version").get(id=review.id)
        old = _counted(review)
        review.status = status
        review.save(update_fields=["status"])
        _apply_vote(review.version, old, _counted(review))
        notifications.withdraw(f"review:{review.id}", hidden=review.status != ReviewStatus.VISIBLE)


def review_json(review: Review) -> dict:
    return {
        "id": review.id,
        "version_id": review.version_id,
        "user": review.user.username,
        "recommended": review.recommended,
        "text": review.text,
        "text_html": review.text_html,
        "created_at": iso_z(review.created_at),
        "updated_at": iso_z(review.updated_at),
    }


def model_reviewed(viewer, model):
    """Whether `viewer` reviewed a version of the model, as an expression on its row: read by
    models_app.page_cache's own-state query for the review forms it draws into a kept page."""
    return Exists(Review.objects.filter(user_id=viewer.pk, version__model_id=model.pk))


# Asked on every kept model page a reviewer opens: built once (models_app/compiled.py).
_model_reviews_by = Built(
    lambda user_id, model_id: Review.objects.filter(user_id=user_id, version__model_id=model_id)
)


def model_reviews_by(user, model) -> dict[int, Review]:
    """`user`'s own review of each version of the model that has one, hidden ones too (one query)."""
    return {r.version_id: r for r in _model_reviews_by.objects(user.pk, model.pk)}
