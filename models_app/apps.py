from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    name = "models_app"
    verbose_name = "Models"

    def ready(self):
        from django.db.models.signals import post_migrate

        from billing.purchases import register_purchase_handler

        from . import early_access, funding, page_cache, sqlite_search
        from .templatetags import early_access as early_access_tags

        # Paid early access: billing calls this when a kind=early_access Checkout is paid (docs/billing.md).
        register_purchase_handler(
            early_access.KIND, early_access.grant_purchase, on_reversed=early_access.revoke_purchase
        )
        # Crowdfunding goals: a contribution may reach the goal and open its version (docs/billing.md).
        register_purchase_handler(funding.KIND, funding.reach_if_funded)

        # A version's early-access panel is drawn for each viewer of the kept model page
        # (docs/performance.md#kept-for-signed-in-viewers).
        page_cache.register_viewer_parts(early_access_tags.PANEL_PART, early_access_tags.draw_panels)

        # SQLite only: the search index and its triggers, installed (idempotently) after every migrate.
        post_migrate.connect(sqlite_search.install, sender=self, dispatch_uid="sqlite_search_install")
