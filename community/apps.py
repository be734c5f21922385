from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Creator pages, comments, ratings, follows and tips."""

    name = "community"
