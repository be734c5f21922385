"""What creators see after processing: detected facts, rejections with reasons, quarantine that hides
dangerous files, thumbnails. Every file goes through the real task (inline) and real storage."""

import hashlib
import io
import json
import struct

import pytest
from PIL import Image

from models_app import demo
from models_app.models import FINAL_SCAN_STATUSES, ContentBlob, FileStatus, ModelFile, ScanStatus
from models_app.storage import model_storage
from tests.factories import make_model
from tests.models_app.conftest import EICAR
from tests.models_app.test_scanning import BENIGN, exec_writing, os_system, torch_zip

pytestmark = pytest.mark.django_db


def upload(owner, content: bytes, filename: str, run_on_commit, **model_fields) -> ModelFile:
    with run_on_commit():
        model = make_model(owner, content=content, filename=filename, publish=False, **model_fields)
    return ModelFile.objects.get(version__model=model)


def test_a_kohya_lora_is_ready_with_its_detected_type_base_model_and_training_metadata(
    creator, run_on_commit
):
    model_file = upload(creator, demo.tiny_lora(), "watercolor.safetensors", run_on_commit)
    assert model_file.status == FileStatus.READY and model_file.scan_status == ScanStatus.CLEAN
    detected = model_file.metadata["detected"]
    assert (detected["model_type"], detected["base_model"]) == ("LORA", "SD 1.5")
    assert model_file.fp == "fp16"
    assert model_file.metadata["training"]["kohya"]["ss_network_dim"] == "4"
    assert "tinywatercolor" in model_file.metadata["suggested_trigger_words"]
    assert model_file.metadata["hints"] == []
    assert model_file.blob.autov3  # safetensors: AutoV3 computed


def test_a_disagreement_with_the_uploader_is_shown_as_a_hint_and_the_uploader_wins(
    creator, run_on_commit, client
):
    model_file = upload(creator, demo.tiny_vae(), "vae.safetensors", run_on_commit, type="Checkpoint")
    assert model_file.status == FileStatus.READY
    assert model_file.version.model.type == "Checkpoint"
    assert any("looks like a VAE" in hint for hint in model_file.metadata["hints"])
    client.force_login(creator)
    assert "looks like a VAE" in client.get(model_file.version.model.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (struct.pack("<Q", 2**63) + b"{}", "rule 2"),
        (struct.pack("<Q", 10) + b'{"a":1}   ', "rule"),
        (demo.make_safetensors([("w", "F16", (2, 2), b"\0" * 8)]) + b"trailing", "rule 7"),
        (demo.make_safetensors([("w", "F16", (4, 4), b"\0" * 8)]), "rule 6"),
    ],
    ids=["huge-header-length", "bad-tensor-entry", "trailing-bytes", "shape-vs-size"],
)
def test_a_broken_safetensors_file_is_rejected_with_the_broken_rule_named(
    creator, run_on_commit, content, reason
):
    model_file = upload(creator, content, "broken.safetensors", run_on_commit)
    assert model_file.status == FileStatus.REJECTED
    assert "not a valid safetensors file" in model_file.status_message and reason in model_file.status_message
    assert ContentBlob.objects.count() == 0


def test_a_pickle_named_safetensors_is_rejected_and_never_runs(creator, run_on_commit, tmp_path):
    model_file = upload(
        creator, torch_zip(os_system(f"touch {tmp_path}/pwned")), "evil.safetensors", run_on_commit
    )
    assert model_file.status == FileStatus.REJECTED
    assert "safetensors" in model_file.status_message
    assert not (tmp_path / "pwned").exists()


def test_a_malicious_checkpoint_is_quarantined_its_payload_never_runs_and_others_cannot_see_it(
    creator, fan, moderator, run_on_commit, tmp_path, client
):
    payload = torch_zip(exec_writing(tmp_path / "pwned"))
    model_file = upload(creator, payload, "evil.ckpt", run_on_commit)
    assert not (tmp_path / "pwned").exists()
    assert model_file.status == FileStatus.QUARANTINED and model_file.scan_status == ScanStatus.QUARANTINED
    assert "builtins.exec" in model_file.scan_message
    assert "not downloadable" in model_file.status_message
    version = model_file.version
    from models_app.services import publish_version

    with pytest.raises(Exception, match="quarantined by the safety scan"):
        publish_version(version=version, by=creator)
    url = f"/api/hub/versions/{version.id}/files"
    for viewer, sees_it in ((creator, True), (moderator, True), (fan, False)):
        client.force_login(viewer)
        response = client.get(url)
        names = [f["name"] for f in response.json()["files"]] if response.status_code == 200 else []
        assert ("evil.ckpt" in names) is sees_it, viewer


def test_a_benign_torch_checkpoint_is_ready_with_a_clean_scan(creator, run_on_commit):
    model_file = upload(creator, torch_zip(BENIGN), "model.ckpt", run_on_commit, type="Checkpoint")
    assert model_file.status == FileStatus.READY and model_file.scan_status == ScanStatus.CLEAN
    assert model_file.format == "PickleTensor"
    assert model_file.metadata["pickle_scan"]["result"] == "Success"


def test_an_unsupported_archive_is_rejected_as_such(creator, run_on_commit):
    import gzip

    model_file = upload(creator, gzip.compress(b"x" * 1000), "weights.ckpt", run_on_commit)
    assert model_file.status == FileStatus.REJECTED and "nsupported" in model_file.status_message


def test_an_example_image_gets_its_size_and_a_webp_thumbnail(creator, run_on_commit):
    buffer = io.BytesIO()
    image = Image.new("RGB", (1200, 800), "teal")
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Sampler: Euler a, Seed: 1")
    image.save(buffer, "PNG", pnginfo=info)
    model_file = upload(creator, buffer.getvalue(), "example.png", run_on_commit)
    assert model_file.status == FileStatus.READY
    meta = model_file.metadata["image"]
    assert (meta["width"], meta["height"]) == (1200, 800)
    assert meta["text"]["parameters"].startswith("a cat")
    with model_storage().open(meta["thumbnail_key"], "rb") as f:
        thumbnail = Image.open(io.BytesIO(f.read()))
        assert thumbnail.format == "WEBP" and max(thumbnail.size) == 450


def test_an_image_bomb_is_rejected_without_being_decoded(creator, run_on_commit):
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )
    model_file = upload(creator, bomb, "bomb.png", run_on_commit)
    assert model_file.status == FileStatus.REJECTED and "50000" in model_file.status_message


def test_text_the_database_refuses_is_cleaned_before_saving(creator, run_on_commit):
    metadata = {"ss_output_name": "evil\x00name", "ss_training_comment": "lone \ud800 surrogate"}
    content = demo.make_safetensors([("lora_unet_x.lora_down.weight", "F16", (2, 2), b"\0" * 8)], metadata)
    model_file = upload(creator, content, "text.safetensors", run_on_commit)
    assert model_file.status == FileStatus.READY
    stored = json.dumps(ModelFile.objects.get(id=model_file.id).metadata)
    assert "\\u0000" not in stored and "\\ud800" not in stored


def test_a_hostile_file_next_to_a_good_one_takes_nothing_with_it(creator, run_on_commit):
    from models_app import services

    good = upload(creator, demo.tiny_lora(), "good.safetensors", run_on_commit)
    version = good.version
    with run_on_commit():
        bad = services.add_file(
            version=version, name="bad.safetensors", content=io.BytesIO(struct.pack("<Q", 2**40) + b"{}")
        )
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == FileStatus.REJECTED
    assert good.status == FileStatus.READY and good.is_primary
    services.publish_version(version=version, by=creator)
    version.refresh_from_db()
    assert version.status == "published"


def test_with_clamav_configured_a_file_it_flags_is_quarantined_with_the_signature(
    creator, run_on_commit, clamd
):
    clamd()
    model_file = upload(creator, b"notes\n" + EICAR + b"\n", "notes.txt", run_on_commit, type="Other")
    assert model_file.status == FileStatus.QUARANTINED
    assert "Eicar-Signature" in model_file.scan_message
    assert model_file.metadata["virus_scan"]["result"] == "Danger"


def test_with_clamav_configured_a_clean_file_is_ready_and_says_it_was_scanned(creator, run_on_commit, clamd):
    server = clamd()
    model_file = upload(creator, demo.tiny_lora(), "clean.safetensors", run_on_commit)
    assert model_file.status == FileStatus.READY
    assert model_file.metadata["virus_scan"]["result"] == "Success"
    assert bytes(server.received) == demo.tiny_lora()  # ClamAV saw the whole file


def test_with_clamav_configured_the_stored_bytes_are_read_once_for_the_hashes_and_the_scan(
    creator, run_on_commit, clamd, monkeypatch
):
    """Issue 17 part 9: one read feeds the hashers and clamd's INSTREAM together
    (docs/hashes.md#one-read-for-hashes-and-the-virus-scan). Since issue 18 part 4 that read is the
    one that stores the bytes (docs/performance.md#uploads-in-one-pass): the worker streams nothing
    back. The counter wraps the real storage read."""
    from models_app import processing

    server = clamd()
    streamed = []
    real_iter_object = processing.iter_object

    def counting_iter_object(key, *args, **kwargs):
        for chunk in real_iter_object(key, *args, **kwargs):
            streamed.append(len(chunk))
            yield chunk

    monkeypatch.setattr(processing, "iter_object", counting_iter_object)
    content = bytes(range(256)) * (24 << 12)  # 24 MiB: three storage chunks, the hashers' threaded path
    model_file = upload(creator, content, "notes.txt", run_on_commit, type="Other")

    assert model_file.status == FileStatus.READY
    assert model_file.metadata["virus_scan"]["result"] == "Success"
    assert bytes(server.received) == content  # ClamAV saw every byte
    assert model_file.blob.sha256 == hashlib.sha256(content).hexdigest().upper()
    assert sum(streamed) == 0  # ...from the write itself: the worker did not read the bytes again


@pytest.mark.parametrize(
    ("content", "filename", "final"),
    [
        (lambda tmp: demo.tiny_lora(), "good.safetensors", FileStatus.READY),
        (lambda tmp: torch_zip(BENIGN), "good.ckpt", FileStatus.READY),
        (lambda tmp: torch_zip(exec_writing(tmp / "pwned")), "evil.ckpt", FileStatus.QUARANTINED),
        (lambda tmp: struct.pack("<Q", 2**63) + b"{}", "broken.safetensors", FileStatus.REJECTED),
        (lambda tmp: torch_zip(BENIGN), "pickle.safetensors", FileStatus.REJECTED),
        (lambda tmp: b"\x89PNG\r\n\x1a\nnot really", "broken.png", FileStatus.REJECTED),
    ],
    ids=[
        "ready-safetensors",
        "ready-ckpt",
        "quarantined",
        "rejected-header",
        "rejected-format",
        "rejected-image",
    ],
)
def test_a_finished_file_has_a_final_scan_status_that_agrees_and_the_task_reports_it(
    creator, content, filename, final, tmp_path, django_capture_on_commit_callbacks
):
    """Rejected files used to stay "scanning" forever, and the task said "ready" for a quarantined
    file: what the creator, the API and the worker's log say must all agree."""
    from models_app import services
    from models_app.tasks import process_file

    version = make_model(creator, publish=False).versions.get()
    with django_capture_on_commit_callbacks(execute=False):  # run the task by hand, to see its result
        model_file = services.add_file(version=version, name=filename, content=io.BytesIO(content(tmp_path)))
    reported = process_file.apply(args=[model_file.id]).get()

    model_file.refresh_from_db()
    assert model_file.status == final and reported == final
    assert model_file.scan_status in FINAL_SCAN_STATUSES[final]
    assert model_file.is_finished


def test_a_rejected_files_bytes_are_deleted_at_once(creator, django_capture_on_commit_callbacks):
    """Refused bytes are never served; kept, completed junk uploads would fill the disk."""
    from models_app import services
    from models_app.tasks import process_file

    version = make_model(creator, publish=False).versions.get()
    with django_capture_on_commit_callbacks(execute=False):
        model_file = services.add_file(
            version=version, name="broken.safetensors", content=io.BytesIO(struct.pack("<Q", 2**63) + b"{}")
        )
    uploaded = model_file.upload_key
    assert model_storage().exists(uploaded)
    process_file.apply(args=[model_file.id])
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.REJECTED and model_file.upload_key == ""
    assert not model_storage().exists(uploaded)
