from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """ComfyUI workflows, wildcard sets and example images with their generation settings."""

    name = "resources"
