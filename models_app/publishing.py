"""When a version becomes public, and what keeps a public version's files safe.

A version is made public only once every file it shows has been checked: a creator who publishes
while files are still uploading or processing gets the publish queued, and the worker completes it
when the last file is final (`file_finished`). A file that ends quarantined while its version is
public takes the version down again. services.publish_version is the entry point for creators; the
worker calls `file_finished` from processing.py.

The primary file (the one a download without parameters gives) is chosen here too, by
`ensure_primary`: only a ready file can be primary (docs/downloads.md#the-primary-file).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import licences
from .cards import refresh_card_fields
from .models import MODERATED_STATUSES, FileStatus, FileType, ModelFile, ModelVersion, PublishStatus

# Files the worker has yet to decide about. An upload still in progress is not among them: it is
# invisible to everyone but its creator until it completes, and then goes through the worker too.
IN_PROCESSING = (FileStatus.PENDING, FileStatus.PROCESSING)


# The file types a version's primary file is chosen from when the creator did not name one.
AUTOMATIC_PRIMARY_TYPES = (FileType.MODEL, FileType.PRUNED_MODEL)

# Called as hook(version=) inside the transaction that made a version public (it was not before):
# community tells the followers (docs/notifications.md#new-versions). Hooks must defer their work to
# transaction.on_commit and be safe to run again: a version unpublished and published again calls them
# again.
VERSION_PUBLISHED_HOOKS: list = []


def register_version_published_hook(hook):
    """Add a hook to VERSION_PUBLISHED_HOOKS once."""
    if hook not in VERSION_PUBLISHED_HOOKS:
        VERSION_PUBLISHED_HOOKS.append(hook)
    return hook


# In a file's metadata: the creator's wish when the file was added (True: make it primary once it is
# ready; False: never choose it automatically). A wish waits for the file to pass its checks, so an
# upload in progress or a rejected file is never primary.
PRIMARY_WISH = "primary_wish"


def ensure_primary(version: ModelVersion) -> ModelFile | None:
    """Make the version's primary file a ready one, or none; returns it.

    The one rule for every path that changes a file's state (processing, a refused, cancelled or
    abandoned upload): a ready file the creator asked to be primary wins; else the current primary
    stays if it is still ready; else the first ready Model (or Pruned Model) file the creator did not
    exclude. Unfinished, rejected, quarantined and failed files lose the flag. Callers hold the
    version's row lock (or run where nothing else changes its files); running it again changes nothing.
    """
    files = list(ModelFile.objects.filter(version_id=version.id).order_by("id"))
    ready = [f for f in files if f.is_downloadable]
    wished = [f for f in ready if f.metadata.get(PRIMARY_WISH) is True]
    current = next((f for f in ready if f.is_primary), None)
    automatic = (
        f for f in ready if f.type in AUTOMATIC_PRIMARY_TYPES and f.metadata.get(PRIMARY_WISH) is not False
    )
    chosen = wished[-1] if wished else current or next(automatic, None)
    stale = [f.id for f in files if f.is_primary and f is not chosen]
    if stale:
        ModelFile.objects.filter(id__in=stale).update(is_primary=False)
    if chosen is not None and not chosen.is_primary:
        ModelFile.objects.filter(id=chosen.id).update(is_primary=True)
        chosen.is_primary = True
    for f in wished:  # granted (or overtaken by a later wish): the creator's next choice decides
        del f.metadata[PRIMARY_WISH]
        ModelFile.objects.filter(id=f.id).update(metadata=f.metadata)
    return chosen


def ensure_primary_of(version_ids) -> None:
    """ensure_primary for each of these versions, each under its row lock."""
    for version_id in sorted(set(version_ids)):
        with transaction.atomic():
            version = ModelVersion.objects.select_for_update().filter(id=version_id).first()
            if version is not None:
                ensure_primary(version)


def publish_problem(files: list[ModelFile]) -> str | None:
    """Why a version with these (finished) files can't be public, or None when it can. Rejected files
    and files that failed to process are never shown to others, so they don't stand in the way."""
    quarantined = [f.name for f in files if f.status == FileStatus.QUARANTINED]
    if quarantined:
        return gettext(
            "%(name)s was quarantined by the safety scan, and a version with a quarantined "
            "file can't be published; upload a clean file to a new version."
        ) % {"name": repr(quarantined[0])}
    if not any(f.status == FileStatus.READY for f in files):
        return gettext("None of this version's files passed processing; upload a new file first.")
    return None


def make_public(version: ModelVersion) -> ModelVersion:
    """Publish the version and, the first time, its model. Safe to call again."""
    now = timezone.now()
    was_public = version.status == PublishStatus.PUBLISHED
    version.status = PublishStatus.PUBLISHED
    version.publish_when_ready = False
    version.published_at = version.published_at or now
    if version.early_access_days and version.early_access_ends_at is None:
        version.early_access_ends_at = version.published_at + timedelta(days=version.early_access_days)
    version.save(
        update_fields=["status", "publish_when_ready", "published_at", "early_access_ends_at", "updated_at"]
    )
    model = version.model
    if model.status != PublishStatus.PUBLISHED:
        model.status = PublishStatus.PUBLISHED
        model.published_at = model.published_at or now
        model.save(update_fields=["status", "published_at", "updated_at"])
    refresh_card_fields(model_ids=[model.id])
    if not was_public:
        for hook in VERSION_PUBLISHED_HOOKS:
            hook(version=version)
    return version


@transaction.atomic
def request_publish(*, version: ModelVersion) -> ModelVersion:
    """Publish now when every file is decided, or queue the publish for the worker while some are
    still being processed (`publish_when_ready`). Raises ValidationError saying why otherwise."""
    locked = ModelVersion.objects.select_for_update().select_related("model").filter(id=version.id).first()
    # Hidden or removed by moderators (docs/moderation.md): only a moderator brings it back.
    if locked is not None and (
        locked.status in MODERATED_STATUSES or locked.model.status in MODERATED_STATUSES
    ):
        raise ValidationError(
            gettext("Moderators took this down; it can't be published again. You may appeal their decision.")
        )
    refusal = licences.publish_refusal(version.model, version.base_model)
    if refusal:
        raise ValidationError(refusal)
    files = list(ModelFile.objects.filter(version_id=version.id))  # fresh, whatever the caller prefetched
    if not files:
        raise ValidationError(gettext("Add at least one file before publishing."))
    quarantined = [f for f in files if f.status == FileStatus.QUARANTINED]
    if quarantined:
        raise ValidationError(publish_problem(quarantined))
    if any(f.status in IN_PROCESSING for f in files):
        version.publish_when_ready = True
        version.save(update_fields=["publish_when_ready", "updated_at"])
        return version
    if not any(f.status == FileStatus.READY for f in files) and any(
        f.status == FileStatus.UPLOADING for f in files
    ):
        raise ValidationError(gettext("Wait until an upload has finished before publishing."))
    problem = publish_problem(files)
    if problem:
        raise ValidationError(problem)
    return make_public(version)


@transaction.atomic
def file_finished(*, model_file: ModelFile) -> None:
    """The worker is done with `model_file` (ready, quarantined, rejected or failed). Choose the
    primary file again (ensure_primary), complete a queued publish once every file of the version is
    final, and take a public version down when one of its files ends quarantined. The version row is
    locked, so two workers finishing the last two files at once decide one after the other. Safe to
    call again."""
    version = ModelVersion.objects.select_for_update().select_related("model").get(id=model_file.version_id)
    ensure_primary(version)
    files = list(version.files.all())
    if version.status == PublishStatus.PUBLISHED and any(f.status == FileStatus.QUARANTINED for f in files):
        unpublish_version(version=version)
        return
    if not version.publish_when_ready or any(f.status in IN_PROCESSING for f in files):
        return
    if publish_problem(files) is None:
        make_public(version)
    else:  # the creator sees each file's status and message on the version page
        version.publish_when_ready = False
        version.save(update_fields=["publish_when_ready", "updated_at"])


def unpublish_version(*, version: ModelVersion) -> ModelVersion:
    """Take a version out of every listing, search and API; its model too when no other version of it
    is public. The rows stay (the creator still sees them)."""
    version.status = PublishStatus.UNPUBLISHED
    version.publish_when_ready = False
    version.save(update_fields=["status", "publish_when_ready", "updated_at"])
    model = version.model
    if (
        model.status == PublishStatus.PUBLISHED
        and not model.versions.filter(status=PublishStatus.PUBLISHED).exists()
    ):
        model.status = PublishStatus.UNPUBLISHED
        model.save(update_fields=["status", "updated_at"])
    refresh_card_fields(model_ids=[model.id])
    return version
