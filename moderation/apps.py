from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Moderator roles, reports, the review queue and decisions."""

    name = "moderation"

    def ready(self):
        from models_app import content_rules

        from . import blocked_terms

        # Every content app's write paths run the blocked-term rule (docs/moderation.md#blocked-terms).
        content_rules.register_check(blocked_terms.check)
