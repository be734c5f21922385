"""Import local model files through the same pipeline as web uploads: one model and version per file."""

import json
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from models_app import processing, services
from models_app.files.detection import Detection, detect
from models_app.files.safetensors import HeaderError, read_header
from models_app.models import MAX_MODEL_NAME_LENGTH, BaseModel, FileType, ModelFile, ModelType

# The file type a model type's single file gets (a workflow's .json is its Workflow file).
_FILE_TYPES = {ModelType.WORKFLOWS: FileType.WORKFLOW}


class Command(BaseCommand):
    help = (
        "Import model files or folders of them. Prints one JSON line per file: path, model_id, "
        "version_id, status and, when the file is not ready, a message."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--owner", required=True, help="Username of the creator who will own the models.")
        parser.add_argument(
            "--type", choices=ModelType.values, help="Model type (default: detected per file)."
        )
        parser.add_argument("--base-model", help="Base model name (default: detected per file, else Other).")
        parser.add_argument(
            "--publish", action="store_true", help="Publish each version after adding its file."
        )
        parser.add_argument(
            "--move",
            action="store_true",
            help="Take each file instead of copying it: renamed into local storage on the same filesystem "
            "(no byte written, no second copy on disk), else copied and then removed. A file that is "
            "refused stays where it was.",
        )
        parser.add_argument("--wait", action="store_true", help="Wait until each file is processed.")
        parser.add_argument(
            "--timeout", type=float, default=3600, help="Seconds to wait per file with --wait."
        )

    def handle(self, paths, owner, type, base_model, publish, move, wait, timeout, **options):
        try:
            user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {owner!r}.") from None
        if base_model and not BaseModel.objects.filter(name=base_model).exists():
            raise CommandError(f"Unknown base model {base_model!r}.")
        for path in self._files(paths):
            line = self._import(path, user=user, model_type=type, base_model=base_model, move=move)
            file_id = line.pop("file_id", None)
            if file_id and wait:
                line.update(self._wait(file_id, timeout))
            if file_id and publish and line["status"] not in ("rejected", "quarantined", "error"):
                try:
                    version = services.publish_version(
                        version=ModelFile.objects.get(id=file_id).version, by=user
                    )
                    # Without --wait the worker has yet to check the file: publishing is queued.
                    line["published"] = version.status == "published"
                    if version.publish_when_ready:
                        line["publish_queued"] = True
                except ValidationError as exc:
                    line.update(published=False, message=" ".join(exc.messages))
            self.stdout.write(json.dumps(line))

    def _files(self, paths):
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file())
            else:
                yield path

    def _import(self, path: Path, *, user, model_type, base_model, move: bool) -> dict:
        line = {"path": str(path), "model_id": None, "version_id": None}
        model = model_file = None
        try:
            if not path.is_file():
                raise ValidationError("No such file.")
            services.check_upload_allowed(filename=path.name, size=path.stat().st_size)
            detected = self._detect(path)
            model_type = model_type or detected.model_type or ModelType.OTHER
            model = services.create_model(
                owner=user,
                # a label taken from the file name, cut to fit (the file keeps its full name)
                name=(path.stem.replace("_", " ").strip() or path.name)[:MAX_MODEL_NAME_LENGTH],
                type=model_type,
            )
            version = services.create_version(
                model=model,
                name="v1.0",
                base_model=base_model or self._known_base(detected.base_model),
            )
            line.update(model_id=model.id, version_id=version.id)
            file_type = _FILE_TYPES.get(model_type, FileType.MODEL)
            if move:
                model_file = services.add_file(
                    version=version, name=path.name, move_from=path, type=file_type
                )
            else:
                with path.open("rb") as f:
                    model_file = services.add_file(
                        version=version, name=path.name, content=File(f, name=path.name), type=file_type
                    )
            model_file.refresh_from_db()
            line.update(file_id=model_file.id, **_status(model_file))
        except ValidationError as exc:
            line.update(status="rejected", message=" ".join(exc.messages))
        except OSError as exc:  # the source unreadable, or storage full
            line.update(
                status="error", message=f"Could not copy the file into the hub: {exc.strerror or exc}."
            )
        if model is not None and model_file is None:
            # The file never got in: the empty draft made for it would only clutter the owner's list.
            model.delete()
            line.update(model_id=None, version_id=None)
        return line

    def _detect(self, path: Path):
        """Guess type and base model from a safetensors header (only the header is read)."""
        unknown = Detection(None, None, "", "", 0.0, [])
        if path.suffix.lower() != ".safetensors":
            # Workflows, wildcard packs...: the apps that own them say (processing.TYPE_DETECTORS).
            for detector in processing.TYPE_DETECTORS:
                model_type = detector(path=path)
                if model_type:
                    return Detection(model_type, None, "", "", 0.5, [f"content looks like {model_type}"])
            return unknown
        try:
            with path.open("rb") as f:
                return detect(read_header(f, path.stat().st_size))
        except HeaderError:
            return unknown  # the pipeline rejects it with the reason

    def _known_base(self, name: str | None) -> str:
        return name if name and BaseModel.objects.filter(name=name).exists() else "Other"

    def _wait(self, file_id: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            model_file = ModelFile.objects.get(id=file_id)
            if model_file.is_finished:
                return _status(model_file)
            if time.monotonic() > deadline:
                return {
                    "status": model_file.status,
                    "message": f"Still {model_file.status} after {timeout:.0f} s; is a Celery worker running "
                    "(`celery -A hub worker`)?",
                }
            # One indexed query per look: checking often costs little and ends --wait close to
            # the moment the file is ready (a 1 s sleep added half a second per file on average).
            time.sleep(0.1)


def _status(model_file: ModelFile) -> dict:
    out = {"status": model_file.status}
    if model_file.status != "ready":
        out["message"] = model_file.status_message or "Waiting for a worker to process it."
        if model_file.scan_message:  # what the scan found, as the model page's scan report shows it
            out["message"] += f" Scan report: {_one_line(model_file.scan_message)}"
    if model_file.blob_id:
        out["sha256"] = model_file.blob.sha256
    return out


def _one_line(report: str) -> str:
    """A scan report (CivitAI-style Markdown over several lines) as one plain line for the JSON output:
    "Detected Pickle imports (1); Dangerous import detected; builtins.exec; ..."."""
    lines = (line.replace("```", "").strip(" *") for line in report.splitlines())
    return "; ".join(line for line in lines if line)
