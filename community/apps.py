from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Creator pages, comments, ratings, follows and tips."""

    name = "community"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate, post_save

        from .adapter import remember_skeleton, sync_site

        post_save.connect(remember_skeleton, sender=get_user_model(), dispatch_uid="username_skeleton")
        # After django.contrib.sites made its "example.com" row (sites comes first in INSTALLED_APPS).
        post_migrate.connect(sync_site, sender=self, dispatch_uid="sync_site")

        from models_app import publishing

        from . import tasks  # also registers the notification tasks with Celery

        publishing.register_version_published_hook(tasks.on_version_published)

        from .collections import connect_signals  # docs/collections.md#like-count

        connect_signals()
