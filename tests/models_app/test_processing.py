"""Uploaded bytes become content-addressed blobs through the Celery task (run inline here)."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from models_app import demo, processing, services, tasks
from models_app.models import ContentBlob, FileStatus, ModelFile
from models_app.storage import model_storage
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_uploaded_file_is_hashed_and_stored_under_its_sha256(creator, run_on_commit):
    with run_on_commit():
        model = make_model(creator, content=demo.tiny_vae(), filename="vae.safetensors")
    model_file = ModelFile.objects.get(version__model=model)
    expected = hashlib.sha256(demo.tiny_vae()).hexdigest().upper()
    assert model_file.status == FileStatus.READY
    assert model_file.blob.sha256 == expected
    assert model_file.blob.autov3 and len(model_file.blob.blake3) == 64
    assert model_file.size == len(demo.tiny_vae())
    storage = model_storage()
    key = f"files/{expected[:2].lower()}/{expected[2:4].lower()}/{expected.lower()}"
    assert model_file.blob.storage_key == key
    with storage.open(key, "rb") as f:
        assert f.read() == demo.tiny_vae()
    assert model_file.upload_key == ""  # the temporary upload is gone


def test_same_bytes_uploaded_twice_share_one_blob(creator, run_on_commit):
    with run_on_commit():
        first = make_model(creator, name="First", content=demo.tiny_lora())
        second = make_model(creator, name="Second", content=demo.tiny_lora())
    files = ModelFile.objects.filter(version__model__in=[first, second]).order_by("id")
    assert files[0].blob_id == files[1].blob_id
    assert ContentBlob.objects.count() == 1
    assert files[1].metadata.get("duplicate_of_existing_blob") is True


def test_processing_again_changes_nothing(creator, run_on_commit):
    with run_on_commit():
        model = make_model(creator)
    model_file = ModelFile.objects.get(version__model=model)
    blob_id = model_file.blob_id
    processing.process_file(model_file=model_file)
    model_file.refresh_from_db()
    assert (model_file.status, model_file.blob_id, ContentBlob.objects.count()) == (
        FileStatus.READY,
        blob_id,
        1,
    )


def test_a_second_message_for_a_finished_file_is_skipped(creator, run_on_commit):
    with run_on_commit():
        model = make_model(creator)
    model_file = ModelFile.objects.get(version__model=model)
    assert tasks.process_file(model_file.id) == "skipped"


def test_a_file_whose_bytes_vanished_is_rejected_with_a_message(creator):
    model = make_model(creator, publish=False)  # on_commit not run: the file is still pending
    model_file = ModelFile.objects.get(version__model=model)
    model_storage().delete(model_file.upload_key)
    assert tasks.process_file(model_file.id) == "rejected"
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.REJECTED
    assert "upload the file again" in model_file.status_message


def test_sweep_finishes_a_file_left_behind_by_a_killed_worker(creator, run_on_commit):
    model = make_model(creator, publish=False)
    model_file = ModelFile.objects.get(version__model=model)
    # What a worker killed mid-task leaves: the row claimed, its message gone.
    ModelFile.objects.filter(id=model_file.id).update(
        status=FileStatus.PROCESSING, updated_at=timezone.now() - timedelta(hours=1)
    )
    with run_on_commit():
        assert tasks.sweep_stuck_files() == 1
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.READY and model_file.blob is not None


def test_sweep_leaves_recent_work_alone(creator):
    make_model(creator, publish=False)
    assert tasks.sweep_stuck_files() == 0


def test_add_file_refuses_nothing_but_stores_a_clean_name(creator):
    model = make_model(creator, publish=False)
    version = model.versions.get()
    model_file = services.add_file(
        version=version, name="../../x/evil.safetensors", content=io.BytesIO(b"{}")
    )
    assert model_file.name == "evil.safetensors"
    assert model_file.upload_key.startswith("uploads/") and "evil" not in model_file.upload_key
    assert model_file.is_primary is False  # the version already has a primary file


def test_a_registered_content_reader_adds_metadata_or_rejects_the_file(creator, run_on_commit, monkeypatch):
    # resources adds its workflow and wildcard readers this way (processing.CONTENT_READERS).
    def reader(*, model_file, f, size, kind):
        data = f.read()
        if b"bad" in data:
            raise processing.FileRejected("This test file says it is bad.")
        return {"test_reader": {"size": size, "kind": kind, "first": data[:4].decode()}}

    monkeypatch.setattr(processing, "CONTENT_READERS", [])
    processing.register_content_reader(reader)
    processing.register_content_reader(reader)  # registering twice keeps one
    assert processing.CONTENT_READERS == [reader]
    with run_on_commit():
        model = make_model(creator, content=b"good text", filename="notes.txt")
    good = ModelFile.objects.get(version__model=model)
    assert good.status == FileStatus.READY
    assert good.metadata["test_reader"] == {"size": 9, "kind": "unknown", "first": "good"}
    with run_on_commit():
        model = make_model(creator, name="Bad", content=b"bad text", filename="bad.txt", publish=False)
    bad = ModelFile.objects.get(version__model=model)
    assert bad.status == FileStatus.REJECTED
    assert bad.status_message == "This test file says it is bad."
