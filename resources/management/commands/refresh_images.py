"""`manage.py refresh_images [--all]`: run the end of image processing again on stored images: read
their generation settings, store the served copy without GPS or camera facts, link their resources.

The worker's sweep does this for the example images migration 0002 moved (they kept the bytes they
had: a migration does not rewrite storage), a batch a minute; this command does it at once. Safe to
run again: every step is keyed by content."""

import json

from django.core.management.base import BaseCommand

from resources import images
from resources.models import Image, ImageStatus


class Command(BaseCommand):
    help = "Re-read, strip and re-link ready images (by default those never processed by resources)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Every ready image, not only the moved ones not yet stripped."
        )

    def handle(self, all, **options):
        todo = Image.objects.filter(status=ImageStatus.READY, blob__isnull=False).select_related("blob")
        if not all:
            todo = todo.filter(stripped=False)
        done = 0
        for image in todo.iterator():
            before = image.blob_id
            image = images.refresh_moved_image(image)
            done += 1
            self.stdout.write(json.dumps({"image_id": image.id, "status": image.status,
                                          "stripped": image.blob_id != before}))  # fmt: skip
        self.stderr.write(f"{done} images refreshed")
