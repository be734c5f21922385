"""Linking what an image names to hub versions by hash (docs/image-metadata.md#linking-images-to-versions):
real model files through the real pipeline, real PNG/JPEG files carrying their hashes."""

import io

import pytest
from PIL import Image, PngImagePlugin

from models_app import demo, services
from models_app.files.genmeta import read_generation_metadata
from models_app.models import ModelType
from models_app.tasks import process_file
from resources.linking import resolve
from tests.factories import add_file, make_user
from tests.factories import publish_model as publish

pytestmark = pytest.mark.django_db


def big_checkpoint() -> bytes:
    """Just over 1 MiB, so its AutoV1 hashes real bytes (an 8-hex `Model hash` from old images)."""
    tensor = bytes((i * 13 + 5) % 251 for i in range(1_200_000))
    return demo.make_safetensors([("model.diffusion_model.out.2.weight", "F16", (600_000,), tensor)])


def embedding() -> bytes:
    return demo.make_safetensors([("emb_params", "F16", (2, 768), bytes((i * 3) % 251 for i in range(3072)))])


@pytest.fixture
def hub(creator, run_on_commit):
    versions = {
        "checkpoint": publish(
            creator, run_on_commit, name="Tiny", type=ModelType.CHECKPOINT, content=big_checkpoint()
        ),
        "lora": publish(creator, run_on_commit, name="Detail", type=ModelType.LORA, content=demo.tiny_lora()),
        "vae": publish(
            creator,
            run_on_commit,
            name="KL",
            type=ModelType.VAE,
            content=demo.tiny_vae(),
            filename="kl.safetensors",
        ),
        "embedding": publish(
            creator,
            run_on_commit,
            name="EasyNeg",
            type=ModelType.TEXTUAL_INVERSION,
            content=embedding(),
            filename="easyneg.safetensors",
        ),
    }
    return {kind: (version, version.files.get().blob) for kind, version in versions.items()}


def png_with_parameters(text: str) -> io.BytesIO:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", pnginfo=info)
    out.seek(0)
    return out


def linked(resources: list[dict]) -> dict:
    return {r["name"]: (r["resolved"] and r["resolved"]["version_id"], r["matched_by"]) for r in resources}


def test_an_a1111_image_links_every_resource_it_names(hub, django_assert_num_queries):
    ckpt, lora, vae, emb = (hub[k][1] for k in ("checkpoint", "lora", "vae", "embedding"))
    text = (
        "a cat, <lora:detail:0.7>, <lora:elsewhere:1>\nNegative prompt: easyneg\n"
        f"Steps: 20, Sampler: Euler a, Seed: 1, Model hash: {ckpt.autov2.lower()}, Model: tiny, "
        f"VAE hash: {vae.autov2.lower()}, VAE: kl.safetensors, "
        f'Lora hashes: "detail: {lora.autov3[:12].lower()}, elsewhere: 0123456789ab", '
        f'TI hashes: "easyneg: {emb.sha256[:12].lower()}"'
    )
    found = read_generation_metadata(png_with_parameters(text)).resources

    with django_assert_num_queries(1):
        resources = resolve(found)

    assert linked(resources) == {
        "tiny": (hub["checkpoint"][0].id, "AutoV2"),
        "kl.safetensors": (hub["vae"][0].id, "AutoV2"),
        "detail": (hub["lora"][0].id, "AutoV3"),
        "elsewhere": (None, None),  # not on this hub
        "easyneg": (hub["embedding"][0].id, "SHA256"),
    }
    detail = next(r for r in resources if r["name"] == "detail")
    assert detail["weight"] == 0.7 and detail["hash"] == lora.autov3[:12].lower()
    assert detail["resolved"] == {
        "model_id": hub["lora"][0].model_id,
        "version_id": hub["lora"][0].id,
        "sha256": lora.sha256,
    }


@pytest.mark.parametrize(
    ("kind", "claim", "matched_by"),
    [
        ("lora", lambda b: b.sha256[:12], "SHA256"),  # Forge writes full-file prefixes
        ("embedding", lambda b: b.autov3[:12], "AutoV3"),
        ("checkpoint", lambda b: b.autov1, "AutoV1"),  # old 8-hex Model hash
        ("checkpoint", lambda b: "0x" + b.sha256.lower(), "SHA256"),
        ("lora", lambda b: b.autov3, "AutoV3"),
        ("vae", lambda b: b.blake3, "BLAKE3"),
    ],
)
def test_each_hash_form_finds_its_version(hub, kind, claim, matched_by):
    version, blob = hub[kind]
    [resource] = resolve([{"kind": kind, "name": "x", "hash": " " + claim(blob) + " ", "weight": None}])
    assert resource["resolved"] == {
        "model_id": version.model_id,
        "version_id": version.id,
        "sha256": blob.sha256,
    }
    assert resource["matched_by"] == matched_by


def test_hashes_json_values_are_matched_by_length(hub):
    ckpt, lora = hub["checkpoint"][1], hub["lora"][1]
    text = f'a cat\nSteps: 20, Seed: 1, Sampler: Euler, Hashes: {{"model": "{ckpt.sha256}", "lora:detail": "{lora.autov3[:12]}"}}'
    resources = resolve(read_generation_metadata(png_with_parameters(text)).resources)
    assert [(r["kind"], r["resolved"]["version_id"], r["matched_by"]) for r in resources] == [
        ("checkpoint", hub["checkpoint"][0].id, "SHA256"),
        ("lora", hub["lora"][0].id, "AutoV3"),
    ]


@pytest.mark.parametrize(
    "claim",
    ["E3B0C442", "5ebd52f5", "nothex!!!!", "'; DROP TABLE x; --", "%00", "A" * 10_000, "", None, 12, "abc"],
)
def test_junk_and_unknown_hashes_link_nothing(hub, claim):
    [resource] = resolve([{"kind": "lora", "name": "x", "hash": claim, "weight": None}])
    assert resource["resolved"] is None and resource["matched_by"] is None


def test_the_empty_file_autov1_never_links(creator, run_on_commit):
    small = publish(creator, run_on_commit, content=demo.tiny_lora())  # under 1 MiB: AutoV1 is E3B0C442
    assert small.files.get().blob.autov1 == "E3B0C442"
    [resource] = resolve([{"kind": "checkpoint", "name": "x", "hash": "e3b0c442", "weight": None}])
    assert resource["resolved"] is None


def test_drafts_deleted_versions_and_example_images_are_not_linked(creator, fan, moderator, run_on_commit):
    draft_model = services.create_model(owner=creator, name="Secret", type=ModelType.LORA)
    draft = services.create_version(model=draft_model, name="v1", base_model="SD 1.5")
    draft_file = services.add_file(
        version=draft, name="secret.safetensors", content=io.BytesIO(demo.tiny_lora())
    )
    process_file.apply(args=[draft_file.id])
    draft_file.refresh_from_db()
    sha = draft_file.blob.sha256

    gone = publish(creator, run_on_commit, name="Gone", content=demo.tiny_vae())
    gone_sha = gone.files.get().blob.sha256
    services.delete_version(version=gone, by=creator)

    shown = publish(creator, run_on_commit, name="Shown", content=demo.tiny_checkpoint())
    image = demo.example_image((255, 0, 0), (0, 0, 255))
    image_file = add_file(shown, run_on_commit, name="example.png", content=image, type="Image")

    claims = [
        {"kind": "lora", "name": n, "hash": h, "weight": None}
        for n, h in (("draft", sha), ("gone", gone_sha), ("image", image_file.blob.sha256))
    ]
    for user in (None, fan):
        assert [r["resolved"] for r in resolve(claims, user=user)] == [None, None, None]
    # The creator sees their own draft linked; a deleted version stays unlinked even for a moderator.
    assert resolve(claims, user=creator)[0]["resolved"]["version_id"] == draft.id
    assert [r["resolved"] is not None for r in resolve(claims, user=moderator)] == [True, False, False]


def test_several_versions_with_the_same_file_link_the_oldest_published(creator, run_on_commit):
    first = publish(creator, run_on_commit, name="First", content=demo.tiny_vae())
    second = publish(make_user("copycat"), run_on_commit, name="Copy", content=demo.tiny_vae())
    blob = first.files.get().blob
    assert second.files.get().blob == blob
    [resource] = resolve([{"kind": "vae", "name": "x", "hash": blob.autov2, "weight": None}])
    assert resource["resolved"]["version_id"] == first.id


def test_comfyui_loader_file_names_link_weakly_by_name(hub):
    resources = [
        {"kind": "checkpoint", "name": "sd15\\tiny.safetensors", "hash": None, "weight": None},
        {"kind": "lora", "name": "not-here.safetensors", "hash": None, "weight": 0.8},
        {"kind": "lora", "name": "detail", "hash": None, "weight": 0.8},  # a tag name, not a file name
    ]
    out = resolve(resources)
    assert out[0]["resolved"]["version_id"] == hub["checkpoint"][0].id and out[0]["matched_by"] == "filename"
    assert [r["resolved"] for r in out[1:]] == [None, None]
    assert resources[0].get("resolved") is None  # the input list is left as it was


def test_a_long_list_is_one_query_and_capped(hub, django_assert_num_queries):
    lora = hub["lora"][1]
    claims = [{"kind": "lora", "name": f"l{i}", "hash": f"{i:012x}", "weight": 1.0} for i in range(300)]
    claims[5]["hash"] = lora.autov3[:12]
    with django_assert_num_queries(1):
        out = resolve(claims)
    assert len(out) == 300 and out[5]["matched_by"] == "AutoV3"
    assert sum(r["resolved"] is not None for r in out) == 1
    assert resolve([]) == []


def test_civitai_version_ids_link_only_when_they_exist_here(hub):
    version = hub["lora"][0]
    claims = [
        {"kind": "lora", "name": None, "hash": None, "weight": 0.6, "civitai_version_id": version.id},
        {"kind": "lora", "name": None, "hash": None, "weight": 0.6, "civitai_version_id": 999_999},
    ]
    out = resolve(claims)
    assert out[0]["resolved"] == {
        "model_id": version.model_id,
        "version_id": version.id,
        "sha256": hub["lora"][1].sha256,
    }
    assert out[0]["matched_by"] == "modelVersionId"
    assert out[1]["resolved"] is None
