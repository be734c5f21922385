from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Moderator roles, reports, the review queue and decisions."""

    name = "moderation"

    def ready(self):
        from models_app import content_rules, sanctions
        from resources import images

        from . import blocked_terms, services, signals, tasks  # noqa: F401 (tasks registers the beat task)

        # Every content app's write paths run the blocked-term rule (docs/moderation.md#blocked-terms).
        content_rules.register_check(blocked_terms.check)
        # Muted and suspended people may not upload, comment or review (docs/moderation.md): the content
        # services below ask this check without importing moderation.
        sanctions.register_write_check(services.write_refusal)
        sanctions.register_login_check(services.login_refusal)  # a suspension refuses signing in
        # Finished images are checked for the queue's automatic signals (docs/moderation.md#automatic-signals).
        images.register_image_ready_hook(signals.on_image_ready)
