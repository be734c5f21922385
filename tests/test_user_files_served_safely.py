"""User files are never shown as a page from the hub's origin: every download is an attachment of
type application/octet-stream; only images the worker checked (a known image type, decoded and
stripped) and the thumbnails it made are shown inline, always with nosniff (docs/security.md#user-files).
Where a URL sends the client on to S3, the signed redirect asks the bucket for the same attachment."""

import io

import pytest
from django.test import Client

from models_app import downloads, services
from models_app.models import FileStatus, FileType, ModelFile
from resources.models import Image
from tests.factories import add_example_image, add_file, publish_model
from tests.security_world import png_bytes

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def version(creator, run_on_commit):
    version = publish_model(creator, run_on_commit, name="Served LoRA")
    add_file(version, run_on_commit, name="notes.txt", content=HTML, type=FileType.OTHER)
    add_file(
        version,
        run_on_commit,
        name="config.json",
        content=b'{"a": "<script>x</script>"}',
        type=FileType.CONFIG,
    )
    return version


def test_every_file_download_is_an_attachment_of_a_type_no_browser_renders(version):
    client = Client()
    files = list(version.files.all())
    assert {f.name for f in files} >= {"notes.txt", "config.json"}
    for model_file in files:
        url = downloads.signed_file_path(model_file)
        response = client.get(url)
        if response.status_code in (302, 307):  # sent on to the bucket: the signed URL names the disposition
            assert response.status_code in (302, 307) and "attachment" in response["Location"], (
                model_file.name
            )
            continue
        assert response.status_code == 200, (model_file.name, response.status_code)
        assert response["Content-Disposition"].startswith("attachment;"), model_file.name
        assert response["Content-Type"] == "application/octet-stream", model_file.name
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in response["Content-Security-Policy"]  # even if a browser tried
        body_of(response)


def test_hugging_face_resolve_serves_attachments_too(version, creator):
    client = Client()
    for name in ("notes.txt", "config.json"):
        response = client.get(f"/{creator.username}/{version.model.slug}/resolve/main/{name}")
        if response.status_code in (302, 307):  # S3: the signed redirect
            assert "attachment" in response["Location"]
            continue
        assert response.status_code == 200, (name, response.status_code)
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        body_of(response)


def test_only_the_thumbnails_the_worker_encoded_are_shown_inline(version, run_on_commit):
    """The uploaded image (checked, not re-encoded) is an attachment; the WebP thumbnail the worker
    encoded itself is the one file shown inline."""
    image = add_example_image(version, run_on_commit, name="fox.png", content=png_bytes())
    client = Client()
    shown = client.get(f"/images/{image.id}/fox.png")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert (
        shown["Content-Disposition"].startswith("attachment;")
        and shown["X-Content-Type-Options"] == "nosniff"
    )
    body_of(shown)
    thumbnail = client.get(f"/images/thumbnails/{image.id}.webp")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in thumbnail.get("Content-Disposition", "")


def test_a_page_disguised_as_an_image_is_never_served_as_one(version, run_on_commit):
    """HTML named .png is refused by the worker, so no /images/ address ever serves it."""
    with run_on_commit():
        model_file = services.add_file(
            version=version, name="evil.png", content=io.BytesIO(HTML), type=FileType.IMAGE
        )
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.REJECTED
    assert not Image.objects.filter(source_file=model_file, status="ready").exists()
    assert ModelFile.objects.filter(id=model_file.id, status=FileStatus.READY).count() == 0
