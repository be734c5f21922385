"""The proof of the CivitAI API: civitapy, installed unmodified from PyPI into its own virtual
environment, lists, looks up and downloads from a live hub, parsing every answer with its own models."""

import io
from pathlib import Path

import pytest

from community.models import ApiKey
from models_app import demo, services
from models_app.models import FileType, ModelVersion
from tests.compat.civitai.conftest import INFOTEXT, png
from tests.factories import make_model, make_user

from ._live import client_venv, run_script

CIVITAPY = "civitapy==0.1.3"
SCRIPT = Path(__file__).with_name("civitapy_session.py")


def big_lora() -> bytes:
    """Just over 1 MiB of tensor data, so every hash (AutoV1 included) covers real bytes."""
    tensor = bytes((i * 7 + 3) % 251 for i in range(1_200_000))
    return demo.make_safetensors(
        [("lora_unet_x.lora_down.weight", "F16", (600_000,), tensor)], {"ss_network_module": "networks.lora"}
    )


@pytest.fixture
def catalog(base_models):
    """Published content processed by the real pipeline (eager Celery, committed for the live server)."""
    alice, bob = make_user("alice"), make_user("bob")
    lora = make_model(
        alice,
        name="Tiny Watercolor",
        tags=["watercolor", "style"],
        content=big_lora(),
        filename="tiny-watercolor.safetensors",
    ).versions.get()
    services.add_file(
        version=lora, name="tiny-vae.safetensors", content=io.BytesIO(demo.tiny_vae()), type=FileType.VAE
    )
    services.add_file(
        version=lora, name="fox.png", content=io.BytesIO(png(parameters=INFOTEXT)), type=FileType.IMAGE
    )
    make_model(
        bob,
        name="Tiny Checkpoint",
        type="Checkpoint",
        content=demo.tiny_checkpoint(),
        filename="ckpt.safetensors",
    )
    make_model(bob, name="Secret Draft", publish=False, content=demo.tiny_vae(), filename="draft.safetensors")
    _, key = ApiKey.create(user=bob, name="civitapy")
    return ModelVersion.objects.get(id=lora.id), key


def test_civitapy_lists_looks_up_and_downloads_with_verified_hashes(live_server, catalog, tmp_path):
    version, key = catalog
    python = client_venv("civitapy", CIVITAPY)
    stored = {f.name: f.blob.sha256 for f in version.files.select_related("blob") if f.type != FileType.IMAGE}
    sha256 = stored["tiny-watercolor.safetensors"]

    seen = run_script(
        python,
        SCRIPT,
        args=[f"{live_server.url}/api/v1", key, tmp_path / "downloads", version.id, sha256],
        timeout=600,
    )

    assert len(seen["models"]) == 2 and "Secret Draft" not in str(seen)
    assert seen["models_metadata"]["nextCursor"] is None and seen["models_metadata"]["totalItems"] == 2
    assert sorted(seen["models_by_cursor"]) == sorted(seen["models"])  # followed nextCursor, one per page
    assert sorted(seen["models_by_page"]) == sorted(seen["models"])  # followed page numbers
    assert seen["lora_search"] == ["Tiny Watercolor"]
    assert seen["model"] == {"id": version.model_id, "name": "Tiny Watercolor", "creator": "alice"}
    assert seen["version"]["id"] == version.id and seen["version"]["air"].endswith(
        f":{version.model_id}@{version.id}"
    )
    assert sorted(seen["version"]["files"]) == sorted(stored)
    assert seen["by_hash"] == seen["by_hash_lowercase"] == version.id and seen["by_hash_missing"] is None
    assert seen["by_hash_bulk"] == [version.id] and seen["by_hash_ids"] == [version.id]
    assert {"watercolor", "style"} <= set(seen["tags"])
    assert seen["creators"] == ["alice", "bob"]
    [image] = seen["images"]
    assert len(image["hash"]) == 28 and image["prompt"] == "a watercolor fox, <lora:tiny:0.8>"
    assert seen["me"] == "bob"
    assert {"ModelType", "BaseModel", "ModelFileType"} <= set(seen["enums"])
    # download_model_version(verify_hash=True) fetched every file; the bytes are the stored ones.
    assert seen["downloads"] == stored
