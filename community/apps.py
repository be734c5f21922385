from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Creators and the people around them: profiles, reviews, comments, follows, collections,
    notifications and lineage."""

    name = "community"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete

        from models_app import page_cache, processing, publishing

        from . import (
            collections,
            comments,
            follows,
            lineage,
            notifications,
            reviews,
            tasks,  # also registers the notification tasks with Celery
        )
        from .account_deletion import after_user_delete, before_user_delete
        from .adapter import remember_skeleton, sync_site
        from .collections import connect_signals
        from .lineage import propose_parents_from_file
        from .templatetags import community_comments, community_reviews

        post_save.connect(remember_skeleton, sender=get_user_model(), dispatch_uid="username_skeleton")
        # A deleted account's votes, reactions and comments leave the counts (community/account_deletion.py).
        pre_delete.connect(before_user_delete, sender=get_user_model(), dispatch_uid="user_delete_counts")
        post_delete.connect(after_user_delete, sender=get_user_model(), dispatch_uid="user_deleted_counts")
        # After django.contrib.sites made its "example.com" row (sites comes first in INSTALLED_APPS).
        post_migrate.connect(sync_site, sender=self, dispatch_uid="sync_site")
        publishing.register_version_published_hook(tasks.on_version_published)  # docs/notifications.md
        connect_signals()  # docs/collections.md#like-count
        processing.register_file_finished_hook(propose_parents_from_file)  # docs/lineage.md#inference
        # What a viewer has of their own on a model page, and what is drawn for each viewer of a
        # kept one: the bell's count, whether they have collections, the follow button; the review forms and the comments' actions for those who
        # reviewed or commented there (docs/performance.md#kept-for-signed-in-viewers).
        page_cache.register_viewer_hole("_viewer_nav.html", {"viewer_unread": notifications.viewer_unread})
        page_cache.register_viewer_hole(
            "models_app/_model_collections.html", {"viewer_collects": collections.viewer_collects}
        )
        page_cache.register_viewer_hole(
            "community/follows/_model_follow.html",
            {"model_follower_count": follows.model_follower_count, "model_followed": follows.model_followed},
        )
        page_cache.register_viewer_parts(
            community_reviews.FORM_PART,
            community_reviews.draw_review_forms,
            {"model_reviewed": reviews.model_reviewed},
            drawn_if="model_reviewed",
        )
        page_cache.register_viewer_parts(
            community_comments.ACTIONS_PART,
            community_comments.draw_comment_actions,
            {"model_commented": comments.model_commented},
            drawn_if="model_commented",
        )
        for check in (
            lineage.own_unpublished_with_parents,
            lineage.own_unpublished_with_children,
            lineage.own_links_to_confirm,
        ):
            page_cache.register_viewer_state_check(check)
