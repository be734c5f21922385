from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """ComfyUI workflows, wildcard sets and example images with their generation settings."""

    name = "resources"

    def ready(self):
        from models_app import processing

        from . import workflow_reader

        processing.register_content_reader(workflow_reader.read_workflow)
        processing.register_type_guesser(workflow_reader.guess_type)
