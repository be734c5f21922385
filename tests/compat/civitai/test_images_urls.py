"""Example images have stable, public URLs: tools store the `url` of /api/v1 images."""

import hashlib

import pytest
from django.test import Client

from community.models import ApiKey
from models_app.models import FileType, ModelVersion, PublishStatus
from resources.models import Image, ImageStatus
from tests.factories import image_of

from .conftest import add_file, png, publish

pytestmark = pytest.mark.django_db


def image_url(client, version) -> str:
    images = client.get(f"/api/v1/model-versions/{version.id}").json()["images"]
    assert len(images) == 1
    return images[0]["url"]


def test_an_image_url_is_stable_and_serves_the_image(client, lora):
    url = image_url(client, lora)
    assert url == image_url(client, lora)  # no signature, no expiry
    assert "sig=" not in url and url.startswith("http://testserver/images/")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('attachment; filename="fox.png"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    image = image_of(lora.files.get(type=FileType.IMAGE))
    assert hashlib.sha256(body).hexdigest().upper() == image.blob.sha256
    partial = client.get(url, HTTP_RANGE="bytes=0-7")
    assert partial.status_code == 206 and b"".join(partial.streaming_content) == body[:8]


def test_a_drafts_image_is_only_for_its_creator(creator, fan, run_on_commit):
    version = publish(creator, run_on_commit, name="Secret LoRA")
    add_file(version, run_on_commit, name="secret.png", content=png("red"), type=FileType.IMAGE)
    ModelVersion.objects.filter(id=version.id).update(status=PublishStatus.DRAFT)
    image = image_of(version.files.get(type=FileType.IMAGE))
    path = f"/images/{image.id}/secret.png"
    assert Client().get(path).status_code == 404
    other = Client()
    other.force_login(fan)
    assert other.get(path).status_code == 404
    _, raw = ApiKey.create(user=creator, name="tool")
    mine = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
    mine.close()  # a FileResponse holds the file open until closed
    assert mine.status_code == 200 and mine["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in mine


@pytest.mark.parametrize("path", ["/images/999999/x.png", "/images/99999999999999999999/x.png"])
def test_unknown_images_are_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json() == {"error": "Image not found"}


def test_a_model_file_is_not_served_as_an_image(client, lora):
    """/images/ serves Image rows only: whatever id is asked, never a model file's bytes."""
    model_file = lora.files.get(is_primary=True)
    for image_id in range(1, Image.objects.order_by("-id").values_list("id", flat=True).first() + 3):
        response = client.get(f"/images/{image_id}/{model_file.name}")
        if response.status_code == 404:
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response["Content-Type"].startswith("image/")
        assert hashlib.sha256(body).hexdigest().upper() != model_file.blob.sha256


def test_the_images_list_offers_only_images_whose_url_serves(client, lora, run_on_commit):
    """The list and the image URL share one rule for a servable file: an image that stopped passing
    its scan (a later verdict) leaves the list instead of being listed with a URL that 404s."""
    version = lora
    add_file(version, run_on_commit, name="second.png", content=png("orange"), type=FileType.IMAGE)
    flagged = image_of(version.files.get(name="second.png"))
    Image.objects.filter(id=flagged.id).update(status=ImageStatus.REJECTED, status_message="Flagged.")

    items = client.get("/api/v1/images").json()["items"]

    assert [item["id"] for item in items] == [image_of(version.files.get(name="fox.png")).id]
    for item in items:
        response = client.get(item["url"])
        assert response.status_code == 200 and b"".join(response.streaming_content)
    assert client.get(f"/images/{flagged.id}/second.png").status_code == 404
