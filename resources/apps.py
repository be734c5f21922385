from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """ComfyUI workflows, wildcard sets and example images with their generation settings."""

    name = "resources"

    def ready(self):
        from models_app import cards, processing, tasks

        from . import images
        from . import tasks as image_tasks  # noqa: F401 - registers process_image with Celery

        processing.register_file_finished_hook(images.image_from_file)
        tasks.register_blob_use_check(images.blob_in_use)
        cards.register_preview_finder(images.find_previews)
