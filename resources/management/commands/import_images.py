"""`manage.py import_images PATH... --owner U [--version ID] [--wait]`: post local images through the
same pipeline as the web form (docs/images.md#scripts). One post holds the images of one run.

Prints one JSON line per file: path, image_id, status (ready or rejected once processed; pending
without --wait) and message (a sentence when rejected)."""

import json
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from resources import images
from resources.models import Image, ImageStatus

FINISHED = {ImageStatus.READY, ImageStatus.REJECTED}


class Command(BaseCommand):
    help = "Post local images (or folders of them). Prints one JSON line per file."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names a model version here, as the interface says; Django's own --version
        # (the Django release) gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--owner", required=True, help="Username of the person who posts them.")
        parser.add_argument("--version", type=int, help="Id of the model version they were made with.")
        parser.add_argument("--title", default="", help="Title of the post (optional).")
        parser.add_argument("--wait", action="store_true", help="Wait until each image is processed.")
        parser.add_argument("--timeout", type=float, default=600, help="Seconds to wait per image.")

    def handle(self, paths, owner, version, title, wait, timeout, **options):
        try:
            user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {owner!r}.") from None
        version_ids = [version] if version is not None else []
        try:
            post = images.create_post(owner=user, title=title, version_ids=version_ids)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        for path in self._files(paths):
            line = {"path": str(path), "image_id": None}
            try:
                if not path.is_file():
                    raise ValidationError("No such file.")
                with path.open("rb") as f:
                    image = images.add_image(
                        owner=user, name=path.name, content=File(f, name=path.name), post=post,
                        version_ids=version_ids,
                    )  # fmt: skip
                line["image_id"] = image.id
                if wait:
                    image = self._wait(image.id, timeout)
                else:
                    image.refresh_from_db()
                line.update(status=image.status, message=image.status_message)
                if image.status not in FINISHED and not image.status_message:
                    line["message"] = "Waiting for a worker to process it (use --wait to wait)."
            except ValidationError as exc:
                line.update(status="rejected", message=" ".join(exc.messages))
            except OSError as exc:
                line.update(status="rejected", message=f"Could not read the file: {exc.strerror or exc}.")
            self.stdout.write(json.dumps(line))

    def _files(self, paths):
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file())
            else:
                yield path

    def _wait(self, image_id: int, timeout: float) -> Image:
        deadline = time.monotonic() + timeout
        while True:
            image = Image.objects.get(id=image_id)
            if image.status in FINISHED or time.monotonic() > deadline:
                if image.status not in FINISHED:
                    image.status_message = (
                        f"Still {image.status} after {timeout:.0f} s; is a Celery worker running "
                        "(`celery -A hub worker`)?"
                    )
                return image
            time.sleep(0.5)
