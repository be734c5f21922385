from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Moderator roles, reports, the review queue and decisions."""

    name = "moderation"
