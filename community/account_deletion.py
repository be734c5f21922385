"""When an account is deleted (admin, or a later self-service page), its reviews, reactions and
comments go with it by cascade; these signal handlers keep the counts others see exact
(docs/reviews.md, docs/comments.md). Favourites are handled by collections.uncount_deleted_favourites."""

from django.db.models import Q

from models_app.models import AIModel

from . import comments, reviews
from .models import Comment, Reaction, Review


def before_user_delete(sender, instance, **kwargs) -> None:
    """pre_delete of a user: withdraw their votes and reactions through the services that count them,
    and remember which models their comments (and the replies under them) were on."""
    for review in Review.objects.filter(user=instance).select_related("version__model"):
        reviews.delete_review(instance, review.version)
    for reaction in Reaction.objects.filter(user=instance).select_related("comment"):
        comments.remove_reaction(instance, reaction.comment, reaction.kind)
    instance._commented_model_ids = set(
        Comment.objects.filter(user=instance, model__isnull=False).values_list("model_id", flat=True)
    )


def after_user_delete(sender, instance, **kwargs) -> None:
    """post_delete of a user: their comments are gone with the replies under them; count again the
    models they were on, the way comment_count counts (the model's and its versions' comments)."""
    for model_id in getattr(instance, "_commented_model_ids", ()):
        count = comments.counted_comments(Q(model_id=model_id))
        AIModel.objects.filter(id=model_id).update(comment_count=count)
