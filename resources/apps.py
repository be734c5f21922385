from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """ComfyUI workflows, wildcard sets and example images with their generation settings."""

    name = "resources"

    def ready(self):
        from models_app import processing

        from . import wildcard_packs, workflow_reader

        processing.register_content_reader(workflow_reader.read_workflow)
        processing.register_type_detector(workflow_reader.detect_workflow)
        processing.register_content_reader(wildcard_packs.read_wildcard_file)
        processing.register_type_detector(wildcard_packs.detect_wildcards)
