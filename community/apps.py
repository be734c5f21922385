from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Creator pages, comments, ratings, follows and tips."""

    name = "community"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate, post_save

        from models_app import processing

        from .adapter import remember_skeleton, sync_site
        from .lineage import propose_parents_from_file

        post_save.connect(remember_skeleton, sender=get_user_model(), dispatch_uid="username_skeleton")
        # After django.contrib.sites made its "example.com" row (sites comes first in INSTALLED_APPS).
        post_migrate.connect(sync_site, sender=self, dispatch_uid="sync_site")
        processing.register_file_finished_hook(propose_parents_from_file)  # docs/lineage.md#inference
