"""A small catalog seen through the Hugging Face API, shared by tests/compat/hf and the real-client proofs
(tests/compat/clients/test_huggingface_hub.py). Everything goes through the services and the real pipeline."""

import contextlib
import io
from dataclasses import dataclass

from PIL import Image

from models_app import cards, demo, services
from models_app.models import AIModel, FileStatus, FileType, ModelFile, ModelVersion
from tests.factories import make_model


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def small_lora(seed: int) -> bytes:
    """A valid safetensors file whose bytes differ with `seed`."""
    data = bytes((i * 7 + seed) % 256 for i in range(64))
    return demo.make_safetensors(
        [("lora_unet_mid.lora_down.weight", "F16", (4, 8), data)], {"seed": str(seed)}
    )


@dataclass
class HfCatalog:
    alice: object
    bob: object
    model: AIModel  # alice/tiny-watercolor: v1.0, then v2.0 (main) with an example image
    v1: ModelVersion
    v2: ModelVersion
    v1_file: ModelFile
    v2_file: ModelFile
    image: ModelFile
    other: AIModel  # alice/pastel-sketch
    bobs: AIModel  # bob/watercolor-dreams
    draft: AIModel  # alice/secret-draft, never published
    gated: AIModel  # alice/early-bird, in early access


def _add(version, name, content, type=FileType.MODEL) -> ModelFile:
    return services.add_file(version=version, name=name, content=io.BytesIO(content), type=type)


def seed(alice, bob, run_on_commit=None) -> HfCatalog:
    """The catalog of alice (the `creator` fixture) and bob (`fan`). `run_on_commit` is the fixture of
    that name in tests inside a transaction, None in transactional tests (where processing runs as
    soon as each file is added)."""
    processing = run_on_commit or contextlib.nullcontext
    with processing():
        model = make_model(alice, name="Tiny Watercolor", filename="tiny-watercolor.safetensors")
        other = make_model(alice, name="Pastel Sketch", content=small_lora(2))
        bobs = make_model(
            bob, name="Watercolor Dreams", filename="dreams.safetensors", content=demo.tiny_vae()
        )
        draft = make_model(alice, name="Secret Draft", publish=False)
    # Trigger words of their own, so that a search for one model finds only it.
    for other_model, word in ((other, "pastelsketch"), (bobs, "dreamy")):
        ModelVersion.objects.filter(model=other_model).update(trained_words=[word])
    cards.refresh_card_fields(model_ids=[other.id, bobs.id])
    v1 = model.versions.get()
    v2 = services.create_version(model=model, name="v2.0", base_model="SD 1.5", trained_words=["tinywc"])
    gated_model = services.create_model(owner=alice, name="Early Bird", type="LORA")
    early = services.create_version(model=gated_model, name="v1", base_model="SD 1.5", early_access_days=3)
    with processing():
        _add(v2, "tiny-watercolor-v2.safetensors", small_lora(1))
        _add(v2, "example.png", png_bytes(), type=FileType.IMAGE)
        _add(early, "early.safetensors", demo.tiny_checkpoint())
    services.publish_version(version=v2, by=alice)
    services.publish_version(version=early, by=alice)
    files = ModelFile.objects.select_related("blob")
    assert not files.exclude(status=FileStatus.READY).exists()
    return HfCatalog(
        alice=alice,
        bob=bob,
        model=model,
        v1=ModelVersion.objects.get(id=v1.id),
        v2=ModelVersion.objects.get(id=v2.id),
        v1_file=files.get(version=v1),
        v2_file=files.get(version=v2, type=FileType.MODEL),
        image=files.get(version=v2, type=FileType.IMAGE),
        other=other,
        bobs=bobs,
        draft=draft,
        gated=gated_model,
    )
