"""Content for the CivitAI API tests: models whose files went through the real pipeline."""

import io

import pytest
from PIL import Image, PngImagePlugin

from models_app import demo, services
from models_app.models import FileStatus, FileType, ModelFile, ModelVersion
from tests.factories import make_model


def publish(owner, run_on_commit, **fields) -> ModelVersion:
    """A model with one version and one processed file (tests/factories.make_model)."""
    with run_on_commit():
        model = make_model(owner, **fields)
    return model.versions.get()


def add_file(version, run_on_commit, *, name, content, type=FileType.MODEL, **fields) -> ModelFile:
    with run_on_commit():
        model_file = services.add_file(version=version, name=name, content=io.BytesIO(content), type=type)
    if fields:
        ModelFile.objects.filter(id=model_file.id).update(**fields)
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.READY, model_file.status_message
    return model_file


def png(color="teal", size=(96, 64), parameters: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


INFOTEXT = (
    "a watercolor fox, <lora:tiny:0.8>\nNegative prompt: lowres, bad hands\n"
    'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 96x64, Model hash: 5ebd52f5d2, Lora hashes: "tiny: ad73b9acd6e4"'
)


@pytest.fixture
def lora(creator, run_on_commit) -> ModelVersion:
    """A published LoRA: a primary model file, a VAE file and an example image with A1111 settings."""
    version = publish(
        creator,
        run_on_commit,
        name="Tiny Watercolor",
        tags=["style", "watercolor"],
        description="Soft **washes**.",
    )
    add_file(version, run_on_commit, name="tiny-vae.safetensors", content=demo.tiny_vae(), type=FileType.VAE)
    add_file(version, run_on_commit, name="fox.png", content=png(parameters=INFOTEXT), type=FileType.IMAGE)
    return version
