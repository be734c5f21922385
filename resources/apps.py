from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """ComfyUI workflows, wildcard sets and example images with their generation settings."""

    name = "resources"

    def ready(self):
        from models_app import cards, page_cache, processing, tasks

        from . import images, wildcard_packs, workflow_reader
        from . import tasks as image_tasks  # noqa: F401 - registers process_image with Celery

        processing.register_content_reader(workflow_reader.read_workflow)
        processing.register_type_detector(workflow_reader.detect_workflow)
        processing.register_content_reader(wildcard_packs.read_wildcard_file)
        processing.register_type_detector(wildcard_packs.detect_wildcards)
        processing.register_file_finished_hook(images.image_from_file)
        tasks.register_blob_use_check(images.blob_in_use)
        tasks.register_upload_key_use_check(images.upload_keys_in_use)
        cards.register_preview_finder(images.find_previews)
        page_cache.register_viewer_state_check(
            images.own_on_model_page
        )  # docs/performance.md#kept-for-signed-in-viewers
