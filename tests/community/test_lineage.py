"""Lineage (issue 14, item 6, and its API; docs/lineage.md): parents declared by creators, proposed by
the worker from a file's metadata, shown on the model page and in the API."""

import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from community import lineage
from community.models import ApiKey, LineageRejection, VersionParent
from models_app import demo, processing, services
from models_app.models import FileStatus, ModelFile, ModelType, ModelVersion, PublishStatus
from models_app.tasks import process_file
from tests.conftest import ClosingClient as Client
from tests.factories import make_user, publish_model

pytestmark = pytest.mark.django_db


def api_client(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _pattern(size: int, seed: int) -> bytes:
    return bytes(((i * 31 + seed) % 251) for i in range(size))


def checkpoint_bytes(seed: int, *, big: bool = False, metadata=None) -> bytes:
    """A small SD 1.5 checkpoint; `big` makes it over 1 MiB so its AutoV1 names it (docs/hashes.md)."""
    spec = [
        ("cond_stage_model.transformer.text_model.embeddings.position_embedding.weight", (77, 32)),
        ("first_stage_model.decoder.conv_in.weight", (32, 4, 3, 3)),
        ("model.diffusion_model.input_blocks.0.0.weight", (32, 4, 3, 3)),
        ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", (8, 768)),
        ("model.diffusion_model.out.2.weight", (4, 32, 3, 3) if not big else (4, 32, 3, 1500)),
    ]
    tensors = []
    for i, (name, shape) in enumerate(spec):
        count = 1
        for dim in shape:
            count *= dim
        tensors.append((name, "F16", shape, _pattern(count * 2, seed + i)))
    return demo.make_safetensors(tensors, metadata if metadata is not None else {"format": "pt"})


def lora_bytes(metadata: dict, seed: int = 7) -> bytes:
    spec = [
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", ()),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", (4, 768)),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", (320, 4)),
    ]
    tensors = []
    for i, (name, shape) in enumerate(spec):
        count = 1
        for dim in shape:
            count *= dim
        tensors.append((name, "F16", shape, _pattern(count * 2, seed + i)))
    return demo.make_safetensors(tensors, {"ss_network_module": "networks.lora", **metadata})


def checkpoint(owner, name: str, seed: int, **kwargs) -> ModelVersion:
    return publish_model(
        owner,
        name=name,
        type=ModelType.CHECKPOINT,
        content=checkpoint_bytes(seed, **kwargs),
        filename=f"{name.lower().replace(' ', '-')}.safetensors",
    )


def sha256_of(version: ModelVersion) -> str:
    return version.files.get().blob.sha256


def lora(owner, metadata: dict, *, name: str = "Ink LoRA", seed: int = 7) -> ModelVersion:
    return publish_model(owner, name=name, type=ModelType.LORA, content=lora_bytes(metadata, seed))


def lineage_json(client, version) -> dict:
    response = client.get(f"/api/hub/versions/{version.id}/lineage")
    assert response.status_code == 200, response.content
    return response.json()


def post_parent(client, child, data):
    return client.post(f"/api/hub/versions/{child.id}/parents", data, content_type="application/json")


@pytest.fixture
def base(fan):
    """Someone else's published checkpoint, over 1 MiB."""
    return checkpoint(fan, "Base Realism", 1, big=True)


# --- Inference from metadata.


def test_a_lora_naming_its_base_by_full_sha256_is_proposed_to_its_creator_only(creator, base):
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(base).lower()})
    link = VersionParent.objects.get(child=child)
    assert (link.parent_id, link.relation, link.confirmed, link.source) == (
        base.id,
        "lora_of",
        False,
        "metadata",
    )
    assert (link.evidence_key, link.evidence_value) == ("ss_new_sd_model_hash", sha256_of(base))

    assert lineage_json(Client(), child) == {"parents": [], "children": []}
    assert lineage_json(Client(), base)["children"] == []
    mine = lineage_json(api_client(creator), child)["parents"]
    assert mine == [
        {
            "version_id": base.id,
            "model_id": base.model_id,
            "relation": "lora_of",
            "weight": None,
            "confirmed": False,
            "source": "metadata",
            "evidence": {"key": "ss_new_sd_model_hash", "value": sha256_of(base)},
        }
    ]
    page = Client()
    page.force_login(creator)
    html = page.get(child.model.get_absolute_url()).content.decode()
    assert 'data-testid="lineage-proposed"' in html and f'data-testid="lineage-confirm-{base.id}"' in html
    anonymous = Client().get(child.model.get_absolute_url()).content.decode()
    assert "Base Realism" not in anonymous and "lineage-confirm" not in anonymous


def test_the_old_a1111_model_hash_matches_the_autov1_the_hub_stores(creator, base):
    autov1 = base.files.get().blob.autov1
    assert autov1 != "E3B0C442"
    child = lora(creator, {"ss_sd_model_hash": autov1.lower(), "ss_sd_model_name": "unrelated.safetensors"})
    link = VersionParent.objects.get(child=child)
    assert (link.parent_id, link.evidence_key) == (base.id, "ss_sd_model_hash")


def test_the_autov1_of_a_small_file_names_nothing(creator, fan):
    small = checkpoint(fan, "Small Base", 2)
    assert small.files.get().blob.autov1 == "E3B0C442"
    child = lora(creator, {"ss_sd_model_hash": "e3b0c442"})
    assert not VersionParent.objects.filter(child=child).exists()


def test_the_base_file_name_is_used_only_when_no_hash_matches_and_only_if_unique(creator, fan, base):
    child = lora(creator, {"ss_sd_model_name": "C:\\models\\Base-Realism.safetensors"})
    link = VersionParent.objects.get(child=child)
    assert (link.parent_id, link.evidence_key, link.evidence_value) == (
        base.id,
        "ss_sd_model_name",
        "Base-Realism.safetensors",
    )
    # A second hub file of that name: the name no longer says which one.
    other = make_user("dora")
    publish_model(
        other,
        name="Copy",
        type=ModelType.CHECKPOINT,
        content=checkpoint_bytes(9),
        filename="base-realism.safetensors",
    )
    second = lora(creator, {"ss_sd_model_name": "base-realism.safetensors"}, name="Second LoRA", seed=8)
    assert not VersionParent.objects.filter(child=second).exists()


def test_a_merge_recipe_proposes_each_merged_model_with_its_weight(creator, fan):
    a = checkpoint(fan, "Model A", 3)
    b = checkpoint(fan, "Model B", 4)
    recipe = {
        "type": "webui",
        "primary_model_hash": sha256_of(a).lower(),
        "secondary_model_hash": sha256_of(b).lower(),
        "tertiary_model_hash": None,
        "interp_method": "Weighted sum",
        "multiplier": 0.3,
    }
    merged = checkpoint(creator, "Merged", 5, metadata={"sd_merge_recipe": json.dumps(recipe)})
    links = {link.parent_id: link for link in VersionParent.objects.filter(child=merged)}
    assert set(links) == {a.id, b.id}
    assert {link.relation for link in links.values()} == {"merge_of"}
    assert links[a.id].weight == pytest.approx(0.7) and links[b.id].weight == pytest.approx(0.3)
    assert links[b.id].evidence_key == "sd_merge_recipe.secondary_model_hash"


def test_a_supermerger_recipe_and_a_bare_model_list_are_read_too(creator, fan):
    a = checkpoint(fan, "Model A", 3)
    b = checkpoint(fan, "Model B", 4)
    recipe = {
        "type": "sd-webui-supermerger",
        "model_a": sha256_of(a)[:10],
        "model_b": sha256_of(b)[:10],
        "base_alpha": 0.25,
        "mode": "Weight sum",
    }
    merged = checkpoint(creator, "Super", 5, metadata={"sd_merge_recipe": json.dumps(recipe)})
    weights = dict(VersionParent.objects.filter(child=merged).values_list("parent_id", "weight"))
    assert weights == {a.id: pytest.approx(0.75), b.id: pytest.approx(0.25)}

    models = {sha256_of(a).lower(): {"name": "a.safetensors"}, sha256_of(b).lower(): {"name": "b"}}
    listed = checkpoint(creator, "Listed", 6, metadata={"sd_merge_models": json.dumps(models)})
    weights = dict(VersionParent.objects.filter(child=listed).values_list("parent_id", "weight"))
    assert weights == {a.id: None, b.id: None}


def test_no_proposal_when_the_hash_names_no_hub_file(creator, base):
    child = lora(
        creator,
        {
            "ss_new_sd_model_hash": "ab" * 32,
            "ss_sd_model_hash": "12345678",
            "sd_merge_recipe": json.dumps({"primary_model_hash": "cd" * 32, "multiplier": 0.5}),
        },
    )
    assert child.files.get().status == FileStatus.READY
    assert not VersionParent.objects.filter(child=child).exists()


def test_a_hash_of_a_version_the_creator_cannot_see_proposes_nothing(creator, fan):
    draft = services.create_version(
        model=services.create_model(owner=fan, name="Secret", type=ModelType.CHECKPOINT),
        name="v1",
        base_model="SD 1.5",
        trained_words=[],
    )
    with_file = publish_model(fan, name="Public", type=ModelType.CHECKPOINT, content=checkpoint_bytes(11))
    # The same bytes in the fan's draft: only the published version may be proposed.
    same = services.add_file(version=draft, name="same.safetensors", content=io.BytesIO(checkpoint_bytes(11)))
    process_file.apply(args=[same.id])
    assert ModelFile.objects.get(id=same.id).status == FileStatus.READY
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(with_file)})
    assert list(VersionParent.objects.filter(child=child).values_list("parent_id", flat=True)) == [
        with_file.id
    ]
    ModelVersion.objects.filter(id=with_file.id).update(status=PublishStatus.UNPUBLISHED)
    again = lora(creator, {"ss_new_sd_model_hash": sha256_of(with_file)}, name="Again", seed=12)
    assert not VersionParent.objects.filter(child=again).exists()


def test_processing_again_proposes_nothing_new_and_a_rejected_parent_stays_rejected(creator, base):
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(base)})
    model_file = child.files.get()
    processing.process_file(model_file=ModelFile.objects.get(id=model_file.id))
    assert VersionParent.objects.filter(child=child).count() == 1

    api = api_client(creator)
    assert api.delete(f"/api/hub/versions/{child.id}/parents/{base.id}").status_code == 204
    assert LineageRejection.objects.filter(child=child, parent=base).exists()
    processing.process_file(model_file=ModelFile.objects.get(id=model_file.id))
    assert not VersionParent.objects.filter(child=child).exists()

    # Declaring it by hand is still possible, and forgets the rejection.
    assert post_parent(api, child, {"version_id": base.id, "relation": "lora_of"}).status_code == 201
    assert not LineageRejection.objects.filter(child=child).exists()


HOSTILE = [
    {"ss_new_sd_model_hash": "a" * 200_000},
    {"ss_sd_model_hash": "\u0000" * 8, "ss_sd_model_name": "x" * 70_000},
    {"sd_merge_recipe": "[" * 50_000 + "]" * 50_000},
    {"sd_merge_recipe": '{"a":' * 5000 + "1" + "}" * 5000},
    {"sd_merge_recipe": json.dumps({"primary_model_hash": ["list"], "multiplier": "1e999"})},
    {"sd_merge_recipe": json.dumps({"model_a": 12, "alpha": {"x": 1}, "mode": 5})},
    {"sd_merge_recipe": "null", "sd_merge_models": json.dumps(["not", "a", "dict"])},
    {"sd_merge_models": json.dumps({"zz" * 32: 1, "": None})},
    {"modelspec.hash_sha256": "0x" + "g" * 64, "modelspec.architecture": "x" * 1000},
]


@pytest.mark.parametrize("metadata", HOSTILE)
def test_hostile_metadata_never_fails_the_pipeline(creator, base, metadata):
    child = lora(creator, metadata)
    assert child.files.get().status == FileStatus.READY
    assert not VersionParent.objects.filter(child=child).exists()


@pytest.mark.parametrize(
    "training",
    [
        None,
        [],
        "x",
        {"kohya": [], "modelspec": "x", "other": 5},
        {"kohya": {"ss_new_sd_model_hash": 5}},
        {"other": {"sd_merge_recipe": 7}},
    ],
)
def test_the_claims_reader_tolerates_any_shape(training):
    if not isinstance(training, dict):
        training = {"kohya": training}
    assert lineage.read_claims(training, model_type="LORA") == []


def test_an_error_in_inference_is_logged_not_raised(creator, base, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lineage, "read_claims", broken)
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(base)})
    assert child.files.get().status == FileStatus.READY
    assert "Lineage inference failed" in caplog.text


def test_a_file_whose_tensors_are_named_by_another_files_modelspec_hash_is_converted_from_it(creator, fan):
    original = checkpoint(fan, "Original", 13)
    autov3 = original.files.get().blob.autov3.lower()
    copy = checkpoint(creator, "Converted", 14, metadata={"modelspec.hash_sha256": "0x" + autov3})
    link = VersionParent.objects.get(child=copy)
    assert (link.parent_id, link.relation, link.evidence_key) == (
        original.id,
        "converted_from",
        "modelspec.hash_sha256",
    )
    # Its own tensor hash names itself: nothing.
    own = checkpoint_bytes(15, metadata={})
    selfish = checkpoint(creator, "Selfish", 15, metadata={})
    assert own and not VersionParent.objects.filter(child=selfish).exists()


# --- Declaring, confirming, removing.


def test_the_creator_confirms_a_proposal_and_everyone_then_sees_it(creator, base):
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(base)})
    api = api_client(creator)
    confirmed = api.post(f"/api/hub/versions/{child.id}/parents/{base.id}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert lineage_json(Client(), child)["parents"][0]["version_id"] == base.id
    assert lineage_json(Client(), base)["children"] == [
        {
            "version_id": child.id,
            "model_id": child.model_id,
            "relation": "lora_of",
            "weight": None,
            "confirmed": True,
            "source": "metadata",
            "evidence": {"key": "ss_new_sd_model_hash", "value": sha256_of(base)},
        }
    ]
    html = Client().get(base.model.get_absolute_url()).content.decode()
    assert f'data-testid="lineage-node-{child.id}"' in html and "Ink LoRA · v1.0" in html


def test_declaring_a_parent_by_api_then_updating_it(creator, fan):
    a = checkpoint(fan, "Model A", 3)
    mine = checkpoint(creator, "Mine", 4)
    api = api_client(creator)
    created = post_parent(api, mine, {"version_id": a.id, "relation": "merge_of", "weight": 0.4})
    assert created.status_code == 201
    assert created.json() == {
        "version_id": a.id,
        "model_id": a.model_id,
        "relation": "merge_of",
        "weight": 0.4,
        "confirmed": True,
        "source": "creator",
        "evidence": None,
    }
    updated = post_parent(api, mine, {"version_id": a.id, "relation": "finetune_of"})
    assert updated.status_code == 200 and updated.json()["weight"] is None
    assert VersionParent.objects.filter(child=mine).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version_id": 999_999, "relation": "lora_of"}, "no hub version 999999"),
        ({"version_id": "x", "relation": "lora_of"}, "version_id"),
        ({"version_id": 1, "relation": "child_of"}, "relation"),
        ({"relation": "lora_of"}, "version_id"),
        ({"version_id": "PARENT", "relation": "lora_of", "weight": 0.5}, "Only a merge_of parent"),
        ({"version_id": "PARENT", "relation": "merge_of", "weight": 1.5}, "weight"),
        ({"version_id": "PARENT", "relation": "merge_of", "weight": "nan"}, "weight"),
    ],
)
def test_bad_declarations_are_refused_with_400_and_write_nothing(creator, fan, data, message):
    parent = checkpoint(fan, "Model A", 3)
    mine = checkpoint(creator, "Mine", 4)
    if data.get("version_id") == "PARENT":
        data = {**data, "version_id": parent.id}
    response = post_parent(api_client(creator), mine, data)
    assert response.status_code == 400
    assert message.lower() in json.dumps(response.json()).lower()
    assert not VersionParent.objects.exists()


def test_cycles_are_refused_with_a_clear_error(creator):
    a = checkpoint(creator, "Model A", 3)
    b = checkpoint(creator, "Model B", 4)
    c = checkpoint(creator, "Model C", 5)
    api = api_client(creator)
    assert post_parent(api, b, {"version_id": a.id, "relation": "finetune_of"}).status_code == 201
    assert post_parent(api, c, {"version_id": b.id, "relation": "finetune_of"}).status_code == 201
    refused = post_parent(api, a, {"version_id": c.id, "relation": "finetune_of"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        f"Version {c.id} already descends from version {a.id}: a version can't be its own ancestor."
    )
    itself = post_parent(api, a, {"version_id": a.id, "relation": "finetune_of"})
    assert itself.status_code == 400 and "its own parent" in itself.json()["detail"]
    assert VersionParent.objects.count() == 2


def test_a_proposal_that_would_make_a_cycle_is_not_made(creator):
    a = checkpoint(creator, "Model A", 3)
    b = checkpoint(creator, "Model B", 4, metadata={})
    api = api_client(creator)
    assert post_parent(api, a, {"version_id": b.id, "relation": "finetune_of"}).status_code == 201
    # B's file now claims A as its base: A already descends from B.
    model_file = ModelFile.objects.get(version=b)
    model_file.metadata["training"]["kohya"] = {"ss_new_sd_model_hash": sha256_of(a)}
    model_file.save()
    lineage.propose_parents_from_file(model_file=model_file)
    assert not VersionParent.objects.filter(child=b).exists()


def test_only_the_creator_changes_parents(creator, fan, moderator):
    a = checkpoint(fan, "Model A", 3)
    mine = lora(creator, {"ss_new_sd_model_hash": sha256_of(a)})
    data = {"version_id": a.id, "relation": "lora_of"}
    assert post_parent(Client(), mine, data).status_code == 401
    for other in (fan, moderator):
        api = api_client(other)
        refused = post_parent(api, mine, data)
        assert refused.status_code == 403 and "creator" in refused.json()["detail"]
        assert api.post(f"/api/hub/versions/{mine.id}/parents/{a.id}/confirm").status_code == 403
        assert api.delete(f"/api/hub/versions/{mine.id}/parents/{a.id}").status_code == 403
    assert VersionParent.objects.get(child=mine).confirmed is False
    web = Client()
    web.force_login(fan)
    web.post(f"/lineage/versions/{mine.id}/parents/{a.id}/confirm")
    assert VersionParent.objects.get(child=mine).confirmed is False
    api = api_client(creator)
    assert api.delete(f"/api/hub/versions/{mine.id}/parents/{mine.id}").status_code == 404


def test_hidden_versions_appear_only_to_those_who_may_see_them(creator, fan):
    public = checkpoint(fan, "Model A", 3)
    child = checkpoint(creator, "Mine", 4)
    api = api_client(creator)
    assert post_parent(api, child, {"version_id": public.id, "relation": "finetune_of"}).status_code == 201
    ModelVersion.objects.filter(id=child.id).update(status=PublishStatus.UNPUBLISHED)
    assert lineage_json(Client(), public)["children"] == []
    assert lineage_json(api_client(fan), public)["children"] == []
    assert [c["version_id"] for c in lineage_json(api, public)["children"]] == [child.id]
    assert Client().get(f"/api/hub/versions/{child.id}/lineage").status_code == 404
    assert Client().get("/api/hub/versions/999999/lineage").status_code == 404
    assert "Mine" not in Client().get(public.model.get_absolute_url()).content.decode()

    # A draft parent of someone else can't be declared.
    draft = services.create_version(
        model=services.create_model(owner=fan, name="Draft", type=ModelType.CHECKPOINT),
        name="v1",
        base_model="SD 1.5",
        trained_words=[],
    )
    refused = post_parent(api, child, {"version_id": draft.id, "relation": "finetune_of"})
    assert refused.status_code == 400 and "that you can see" in refused.json()["detail"]


def test_the_graph_is_bounded_in_depth_and_width(creator):
    versions = [checkpoint(creator, f"Gen {i}", 20 + i) for i in range(5)]
    api = api_client(creator)
    for parent, child in zip(versions, versions[1:], strict=False):
        assert (
            post_parent(api, child, {"version_id": parent.id, "relation": "finetune_of"}).status_code == 201
        )
    graph = lineage.lineage_graph(creator, versions[4])
    assert [[n.version.id for n in level] for level in graph.ancestors] == [
        [versions[3].id],
        [versions[2].id],
        [versions[1].id],
    ]
    kids = [publish_model(creator, name=f"Kid {i}", content=lora_bytes({}, 40 + i)) for i in range(8)]
    for kid in kids:
        lineage.declare_parent(user=creator, child=kid, parent_id=versions[0].id, relation="lora_of")
    graph = lineage.lineage_graph(creator, versions[0])
    assert (
        len(graph.descendants[0]) == lineage.GRAPH_WIDTH and graph.hidden_down[0] == 9 - lineage.GRAPH_WIDTH
    )
    html = Client().get(versions[0].model.get_absolute_url()).content.decode()
    assert "and 3 more" in html


def test_walking_many_versions_together_draws_each_as_alone(creator):
    """The model page walks all its versions' lineages with shared queries (docs/performance.md#the-model-page):
    a chain with a diamond and a wide level gives every version the graph it has on its own."""
    versions = [checkpoint(creator, f"Gen {i}", 60 + i) for i in range(5)]
    kids = [publish_model(creator, name=f"Kid {i}", content=lora_bytes({}, 80 + i)) for i in range(8)]
    links = [(0, 1), (1, 2), (2, 3), (3, 4), (1, 3)]  # 1 -> 3 directly too: a diamond seen from 4
    for parent, child in links:
        lineage.declare_parent(
            user=creator, child=versions[child], parent_id=versions[parent].id, relation="finetune_of"
        )
    for kid in kids:
        lineage.declare_parent(user=creator, child=kid, parent_id=versions[2].id, relation="lora_of")

    def shape(graph):
        def levels(levels_, hidden):
            return [
                ([(n.version.id, [link.id for link in n.links]) for n in level], h)
                for level, h in zip(levels_, hidden, strict=True)
            ]

        return levels(graph.ancestors, graph.hidden_up), levels(graph.descendants, graph.hidden_down)

    everyone = [*versions, *kids]
    for user in (creator, AnonymousUser()):
        together = lineage.lineage_graphs(user, everyone)
        alone = {v.id: lineage.lineage_graph(user, v) for v in everyone}
        assert {k: shape(g) for k, g in together.items()} == {k: shape(g) for k, g in alone.items()}
    graph = together[versions[4].id]
    assert [[n.version.id for n in level] for level in graph.ancestors] == [
        [versions[3].id],
        [versions[2].id, versions[1].id],  # 1 is drawn once, at its nearest level
        [versions[0].id],
    ]
    assert together[versions[2].id].hidden_down[0] == 9 - lineage.GRAPH_WIDTH


def test_the_edit_page_declares_a_parent_by_model_page_address(creator, fan):
    a = checkpoint(fan, "Model A", 3)
    mine = checkpoint(creator, "Mine", 4)
    web = Client()
    web.force_login(creator)
    edit_url = f"/models/{mine.model_id}/versions/{mine.id}/edit"
    page = web.get(edit_url)
    assert page.status_code == 200 and 'data-testid="lineage-parents"' in page.content.decode()
    response = web.post(
        f"/lineage/versions/{mine.id}/parents",
        {
            "parent": f"http://testserver{a.model.get_absolute_url()}#version-{a.id}",
            "relation": "merge_of",
            "weight": "0.5",
            "next": edit_url,
        },
    )
    assert response.status_code == 302 and response["Location"] == edit_url
    link = VersionParent.objects.get(child=mine)
    assert (link.parent_id, link.relation, link.weight, link.confirmed) == (a.id, "merge_of", 0.5, True)
    assert "Model A · v1.0" in web.get(edit_url).content.decode()
    # A bare model address picks that model's newest version; junk is refused with a message.
    b = checkpoint(fan, "Model B", 5)
    web.post(
        f"/lineage/versions/{mine.id}/parents", {"parent": f"/models/{b.model_id}", "relation": "finetune_of"}
    )
    assert VersionParent.objects.filter(child=mine, parent=b).exists()
    followed = web.post(
        f"/lineage/versions/{mine.id}/parents", {"parent": "nonsense", "relation": "finetune_of"}, follow=True
    )
    assert "No version matches" in followed.content.decode()
    # A model name search: one match is taken, several are listed with their ids.
    c = checkpoint(fan, "Watery Ink", 6)
    web.post(f"/lineage/versions/{mine.id}/parents", {"parent": "watery", "relation": "finetune_of"})
    assert VersionParent.objects.filter(child=mine, parent=c).exists()
    followed = web.post(
        f"/lineage/versions/{mine.id}/parents", {"parent": "model", "relation": "finetune_of"}, follow=True
    )
    assert f"Model A · v1.0 (id {a.id})" in followed.content.decode()
    # An outside `next` is not followed.
    outside = web.post(
        f"/lineage/versions/{mine.id}/parents/{a.id}/remove", {"next": "https://evil.example/"}
    )
    assert outside["Location"].startswith(mine.model.get_absolute_url())
    # Someone else's edit page has no parents form (and they can't open it at all).
    other = Client()
    other.force_login(fan)
    assert "lineage-parents" not in other.get(edit_url).content.decode()


def test_deleting_a_version_removes_it_from_the_lineage(creator, fan):
    a = checkpoint(fan, "Model A", 3)
    mine = checkpoint(creator, "Mine", 4)
    lineage.declare_parent(user=creator, child=mine, parent_id=a.id, relation="finetune_of")
    ModelVersion.objects.filter(id=a.id).update(status=PublishStatus.DELETED, updated_at=timezone.now())
    assert lineage_json(api_client(creator), mine)["parents"] == []


def test_real_answers_of_the_lineage_operations_match_the_schema(creator, fan, base):
    from tests.test_openapi import Checker, _is_lineage

    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    document = json.loads(out.getvalue())
    check = Checker(document)
    child = lora(creator, {"ss_new_sd_model_hash": sha256_of(base)})
    other = checkpoint(fan, "Model A", 3)
    api, stranger = api_client(creator), api_client(fan)
    lineage_path = "/api/hub/versions/{version_id}/lineage"
    parents = "/api/hub/versions/{version_id}/parents"
    one = "/api/hub/versions/{version_id}/parents/{parent_id}"
    confirm = one + "/confirm"

    assert check(api.get(f"/api/hub/versions/{child.id}/lineage"), "get", lineage_path)["parents"]
    check(Client().get(f"/api/hub/versions/{child.id}/lineage"), "get", lineage_path)
    check(Client().get("/api/hub/versions/999999/lineage"), "get", lineage_path)
    declare = {"version_id": other.id, "relation": "merge_of", "weight": 0.5}
    check(post_parent(api, child, declare), "post", parents)  # 201
    check(post_parent(api, child, declare), "post", parents)  # 200
    check(post_parent(api, child, {"version_id": other.id}), "post", parents)  # 400
    check(post_parent(stranger, child, declare), "post", parents)  # 403
    check(post_parent(Client(), child, declare), "post", parents)  # 401
    check(post_parent(api, ModelVersion(id=999999), declare), "post", parents)  # 404
    check(api.post(f"/api/hub/versions/{child.id}/parents/{base.id}/confirm"), "post", confirm)
    check(api.post(f"/api/hub/versions/{child.id}/parents/999999/confirm"), "post", confirm)  # 404
    check(stranger.post(f"/api/hub/versions/{child.id}/parents/{base.id}/confirm"), "post", confirm)
    check(Client().post(f"/api/hub/versions/{child.id}/parents/{base.id}/confirm"), "post", confirm)
    check(api.delete(f"/api/hub/versions/{child.id}/parents/{base.id}"), "delete", one)  # 204
    check(api.delete(f"/api/hub/versions/{child.id}/parents/{base.id}"), "delete", one)  # 404
    check(stranger.delete(f"/api/hub/versions/{child.id}/parents/{other.id}"), "delete", one)  # 403
    check(Client().delete(f"/api/hub/versions/{child.id}/parents/{other.id}"), "delete", one)  # 401
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {op for op in documented if _is_lineage(op[0])} == check.seen


def test_ids_too_large_for_the_database_are_refused_not_crashed(creator):
    mine = checkpoint(creator, "Mine", 4)
    api = api_client(creator)
    huge = 2**70
    assert post_parent(api, mine, {"version_id": huge, "relation": "finetune_of"}).status_code == 400
    assert Client().get(f"/api/hub/versions/{huge}/lineage").status_code == 404
    assert api.delete(f"/api/hub/versions/{mine.id}/parents/{huge}").status_code == 404
    assert api.post(f"/api/hub/versions/{mine.id}/parents/{huge}/confirm").status_code == 404
    web = Client()
    web.force_login(creator)
    followed = web.post(
        f"/lineage/versions/{mine.id}/parents", {"parent": str(huge), "relation": "finetune_of"}, follow=True
    )
    assert followed.status_code == 200 and not VersionParent.objects.exists()
    followed = web.post(
        f"/lineage/versions/{mine.id}/parents", {"parent": "9" * 18, "relation": "finetune_of"}, follow=True
    )
    assert "no hub version" in followed.content.decode()


def test_the_graph_takes_one_query_a_level_whatever_its_width(creator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    base_version = checkpoint(creator, "Root", 30)
    kids = [publish_model(creator, name=f"Kid {i}", content=lora_bytes({}, 50 + i)) for i in range(5)]
    lineage.declare_parent(user=creator, child=kids[0], parent_id=base_version.id, relation="lora_of")
    with CaptureQueriesContext(connection) as one_child:
        lineage.lineage_graph(creator, base_version)
    for kid in kids[1:]:
        lineage.declare_parent(user=creator, child=kid, parent_id=base_version.id, relation="lora_of")
    with CaptureQueriesContext(connection) as five_children:
        graph = lineage.lineage_graph(creator, base_version)
    assert len(graph.descendants[0]) == 5
    assert len(five_children) == len(one_child) == 3  # up: none; down: the children, then theirs: none


def test_a_lineage_too_long_to_check_is_refused(creator, monkeypatch):
    monkeypatch.setattr(lineage, "MAX_GENERATIONS", 2)
    versions = [checkpoint(creator, f"Gen {i}", 60 + i) for i in range(5)]
    for parent, child in zip(versions[:3], versions[1:4], strict=True):  # 0 <- 1 <- 2 <- 3
        lineage.declare_parent(user=creator, child=child, parent_id=parent.id, relation="finetune_of")
    # versions[3] has 3 generations above it, one more than can be checked.
    with pytest.raises(lineage.LineageRefused) as refused:
        lineage.declare_parent(
            user=creator, child=versions[4], parent_id=versions[3].id, relation="finetune_of"
        )
    assert refused.value.status == 400 and "too long a lineage" in refused.value.message
    assert not VersionParent.objects.filter(child=versions[4]).exists()
