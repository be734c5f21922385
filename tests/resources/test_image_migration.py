"""Migration resources 0002 moves example images (ModelFile rows of type Image) into Image rows with
the same ids, so every /images/<id>/<name> link handed out before keeps working."""

import hashlib
import io

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image, PngImagePlugin

from models_app.storage import model_storage
from resources.models import Image as CurrentImage
from tests.conftest import ClosingClient
from tests.factories import ensure_base_models

# models_app is held where the model rows still have the columns these historical states write
# (0029 drops the boolean `nsfw`, which 0028 turned into levels).
BEFORE = [("resources", "0001_images_and_posts"), ("models_app", "0028_nsfw_levels")]
AFTER = [("resources", "0002_move_example_images"), ("models_app", "0028_nsfw_levels")]
PARAMETERS = "a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5"


def png_bytes() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", PARAMETERS)
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_example_images_keep_their_ids_and_urls():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User = apps.get_model(settings.AUTH_USER_MODEL)
    owner = User.objects.create(username="old-creator")
    BaseModel = apps.get_model("models_app", "BaseModel")
    base, _ = BaseModel.objects.get_or_create(name="SD 1.5")
    model = apps.get_model("models_app", "AIModel").objects.create(
        owner=owner, name="Old LoRA", slug="old-lora", type="LORA", status="published", preview_image_id=4242
    )
    version = apps.get_model("models_app", "ModelVersion").objects.create(
        model=model, name="v1", base_model=base, status="published"
    )
    data = png_bytes()
    sha = hashlib.sha256(data).hexdigest().upper()
    blob = apps.get_model("models_app", "ContentBlob").objects.create(
        sha256=sha, size=len(data), storage_key=f"files/{sha[:2].lower()}/{sha[2:4].lower()}/{sha.lower()}",
        autov1="00000000", crc32="00000000", blake3="0" * 64,
    )  # fmt: skip
    model_storage().save(blob.storage_key, ContentFile(data))
    ModelFile = apps.get_model("models_app", "ModelFile")
    ModelFile.objects.create(
        id=4242, version=version, name="old fox.png", type="Image", status="ready", scan_status="clean",
        blob=blob, size=len(data),
        metadata={"image": {"width": 40, "height": 30, "mime_type": "image/png", "blurhash": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
                           "text": {"parameters": PARAMETERS}}},
    )  # fmt: skip
    ModelFile.objects.create(id=4243, version=version, name="broken.png", type="Image", status="rejected",
                             scan_status="not_scanned", status_message="The image file is truncated.")  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Image = apps.get_model("resources", "Image")
    moved = Image.objects.get(id=4242)
    assert (moved.name, moved.status, moved.width, moved.height, moved.blob_id) == (
        "old fox.png",
        "ready",
        40,
        30,
        blob.id,
    )
    assert moved.meta["prompt"] == "a fox" and moved.meta["negativePrompt"] == "blurry"
    assert moved.post.owner_id == owner.id and moved.post.version_id == version.id
    assert apps.get_model("resources", "ImageVersion").objects.get(image_id=4242).role == "example"
    assert Image.objects.get(id=4243).status == "rejected"
    assert Image.objects.get(id=4243).status_message == "The image file is truncated."

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the project's migrations
    ensure_base_models()
    assert not CurrentImage.objects.get(id=4242).stripped  # 0003: served stripped until the sweep
    response = ClosingClient().get("/images/4242/old%20fox.png")
    assert response.status_code == 200 and response.content == data  # it had nothing to strip
    assert "a fox" in ClosingClient().get("/images/4242").content.decode()
    assert CurrentImage.objects.create(owner_id=owner.id, name="new.png").id > 4243  # numbering goes on
