from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    name = "models_app"
    verbose_name = "Models"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import sqlite_search

        # SQLite only: the search index and its triggers, installed (idempotently) after every migrate.
        post_migrate.connect(sqlite_search.install, sender=self, dispatch_uid="sqlite_search_install")
