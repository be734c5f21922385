"""Uploaded bytes that no file will ever process leave storage after LEFTOVER_BYTES_AFTER, and not
before; the file page says so (issue 17 part 9, docs/storage-hygiene.md). Real storage: a temporary
folder, or the S3 server of the PostgreSQL run."""

import io
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from models_app import processing, services, storage
from models_app.models import FileStatus, ModelFile
from models_app.tasks import process_file, sweep_abandoned_uploads, sweep_leftover_bytes
from tests.factories import make_model

from .test_upload_limits import open_upload, stored_parts
from .test_uploads import PART, send_parts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]

DAY = 24 * 3600


def stored(key: str) -> bool:
    return storage.model_storage().exists(key)


def age_row(model_file: ModelFile, seconds: int) -> None:
    ModelFile.objects.filter(id=model_file.id).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def age_object(key: str, seconds: int) -> None:
    """Make stored bytes look written `seconds` ago. Local disk only: S3 keeps its own LastModified, so
    the S3 run waits a second and shortens the grace period instead."""
    if storage.is_s3():
        time.sleep(1.1)
    else:
        then = time.time() - seconds
        os.utime(storage.model_storage().path(key), (then, then))


def pending_file(creator, name="notes.txt") -> ModelFile:
    """A file whose bytes are stored and whose processing has not started (its message not sent yet)."""
    model = make_model(creator, content=os.urandom(1000), filename=name, type="Other", publish=False)
    model_file = ModelFile.objects.get(version__model=model)
    assert model_file.status == FileStatus.PENDING and stored(model_file.upload_key)
    return model_file


def test_the_default_grace_period_is_one_day_and_the_sweep_runs_hourly(settings):
    assert settings.LEFTOVER_BYTES_AFTER == DAY
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-leftover-bytes"]
    assert (entry["task"], entry["schedule"]) == ("models_app.tasks.sweep_leftover_bytes", 3600.0)


def test_a_file_deleted_before_a_worker_took_it_loses_its_bytes_after_the_grace_period(creator):
    model_file = pending_file(creator)
    key = model_file.upload_key
    services.delete_file(model_file=model_file, by=creator)
    assert process_file(model_file.id) == "skipped"  # the worker never touches a deleted file's bytes

    age_row(model_file, DAY - 60)
    sweep_leftover_bytes()
    assert stored(key)  # within the grace period

    age_row(model_file, DAY + 60)
    assert sweep_leftover_bytes() >= 1
    assert not stored(key)
    model_file.refresh_from_db()
    assert (model_file.status, model_file.upload_key) == (FileStatus.DELETED, "")


def test_a_file_in_error_keeps_its_bytes_for_the_grace_period_then_its_page_says_they_were_removed(
    client, creator, settings
):
    settings.LEFTOVER_BYTES_AFTER = 2 * DAY  # an operator's longer setting
    model_file = pending_file(creator, name="flaky.txt")
    key = model_file.upload_key
    processing.mark_file_failed(
        model_file=model_file,
        status=FileStatus.ERROR,
        message="Storage could not be read after several tries; the hub will try again later.",
    )
    age_row(model_file, 2 * DAY - 60)
    sweep_leftover_bytes()
    assert stored(key)

    age_row(model_file, 2 * DAY + 60)
    sweep_leftover_bytes()

    assert not stored(key)
    model_file.refresh_from_db()
    assert (model_file.status, model_file.upload_key) == (FileStatus.ERROR, "")
    message = (
        "This file could not be processed, and its uploaded bytes were removed after 2 days; "
        "upload the file again."
    )
    assert model_file.status_message == message
    client.force_login(creator)
    html = client.get(model_file.version.model.get_absolute_url()).content.decode()
    assert "flaky.txt" in html and message in html


def test_bytes_under_uploads_that_no_row_names_are_removed_after_the_grace_period_and_named_ones_stay(
    creator, settings
):
    orphan = storage.model_storage().save(storage.new_upload_key("x"), ContentFile(b"left by a crash"))
    waiting = pending_file(creator)  # a queued file: its bytes must stay whatever their age
    settings.LEFTOVER_BYTES_AFTER = 3600

    sweep_leftover_bytes()
    assert stored(orphan) and stored(waiting.upload_key)  # both younger than an hour

    age_object(orphan, 3600 + 60)
    age_object(waiting.upload_key, 3600 + 60)
    if storage.is_s3():
        settings.LEFTOVER_BYTES_AFTER = 0
    sweep_leftover_bytes()

    assert not stored(orphan)
    assert stored(waiting.upload_key)
    waiting.refresh_from_db()
    assert waiting.status == FileStatus.PENDING


def test_a_posted_image_waiting_for_its_processing_keeps_its_bytes_whatever_their_age(creator, settings):
    """resources names its own upload keys to the sweep (tasks.UPLOAD_KEY_USE_CHECKS)."""
    from models_app import demo
    from resources import images

    image = images.add_image(
        owner=creator, name="hills.png", content=io.BytesIO(demo.example_image((1, 2, 3), (4, 5, 6)))
    )
    assert image.upload_key and stored(image.upload_key)
    age_object(image.upload_key, DAY + 60)
    if storage.is_s3():
        settings.LEFTOVER_BYTES_AFTER = 0

    sweep_leftover_bytes()

    assert stored(image.upload_key)


def test_a_completed_upload_deleted_before_processing_leaves_nothing_in_storage_after_the_sweeps(
    client, creator, settings
):
    """The multipart case: on S3 the joined object sits under uploads/ with no row naming it once the
    file is deleted; on local disk the parts wait in their folder for the abandoned-uploads sweep."""
    model = make_model(creator, publish=False)
    version = model.versions.get()
    client.force_login(creator)
    upload = open_upload(client, version, name="done.txt", size=PART + 10)
    send_parts(client, upload.id, os.urandom(PART + 10))
    response = client.post(f"/api/hub/uploads/{upload.id}/complete")
    assert response.status_code == 200, response.json()
    upload.refresh_from_db()
    key, upload_id = upload.upload_key, upload.multipart_upload_id
    assert upload.status == FileStatus.PENDING  # its processing message is not sent yet
    services.delete_file(model_file=upload, by=creator)

    sweep_leftover_bytes()
    sweep_abandoned_uploads()
    assert stored(key) or stored_parts(key, upload_id) is not None  # within the grace periods

    settings.LEFTOVER_BYTES_AFTER = settings.ABANDONED_UPLOAD_AFTER = 0
    if storage.is_s3():
        time.sleep(1.1)
    else:
        then = time.time() - 60
        os.utime(storage.model_storage().path(f"{storage.MULTIPART_DIR}/{upload_id}"), (then, then))
    sweep_leftover_bytes()
    sweep_abandoned_uploads()

    assert not stored(key)
    assert stored_parts(key, upload_id) is None
