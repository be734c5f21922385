"""Content for the CivitAI API tests: models whose files went through the real pipeline."""

import io

import pytest
from PIL import Image, PngImagePlugin

from models_app import demo
from models_app.models import FileType, ModelVersion
from tests.factories import add_file  # noqa: F401 (the tests here import it from this module)
from tests.factories import publish_model as publish


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
