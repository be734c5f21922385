"""Workflow uploads through the real pipeline, the workflow API, the model page and import_models."""

import io
import json
import re

import pytest
from django.core.management import call_command

from models_app import demo, services
from models_app.models import AIModel, FileStatus, FileType, ModelFile, ModelType
from models_app.tasks import process_file
from tests.factories import make_model, make_user

from .workflow_samples import api_format, big_ui, dumps, png_with, ui_04, webp_with


def workflow_model(owner, content: bytes, *, filename="txt2img.json", publish=True):
    return make_model(
        owner, name="Fox workflow", type=ModelType.WORKFLOWS, base_model="SDXL 1.0",
        content=content, filename=filename, publish=publish,
    )  # fmt: skip


def upload(owner, content: bytes, filename: str, model_type=ModelType.WORKFLOWS) -> ModelFile:
    model = services.create_model(owner=owner, name="Upload", type=model_type)
    version = services.create_version(model=model, name="v1", base_model="Other")
    model_file = services.add_file(version=version, name=filename, content=io.BytesIO(content))
    process_file.apply(args=[model_file.id])
    model_file.refresh_from_db()
    return model_file


def test_a_json_workflow_upload_ends_ready_with_its_summary(creator):
    model_file = upload(creator, dumps(ui_04()), "txt2img.json")
    assert model_file.status == FileStatus.READY, model_file.status_message
    summary = model_file.metadata["workflow"]["summary"]
    assert (summary["format"], summary["nodes"], summary["links"]) == ("ui", 9, 9)
    assert len(model_file.metadata["workflow"]["layout"]["nodes"]) == 9


def test_a_png_or_webp_carrying_a_workflow_is_accepted_for_a_workflows_model(creator):
    model_file = upload(creator, png_with({"workflow": json.dumps(ui_04())}), "fox.png")
    assert model_file.status == FileStatus.READY, model_file.status_message
    assert model_file.metadata["workflow"]["summary"]["nodes"] == 9
    model_file = upload(creator, webp_with({0x010F: "workflow:" + json.dumps(ui_04())}), "fox.webp")
    assert model_file.status == FileStatus.READY, model_file.status_message
    assert model_file.metadata["workflow"]["summary"]["nodes"] == 9


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b'{"a": 1}', "x.json", "not a ComfyUI workflow"),
        (b"[" * 50_000 + b"]" * 50_000, "deep.json", "nested too deeply"),
        (dumps(ui_04()).replace(b"[26, 474]", b"[NaN, 474]"), "nan.json", "NaN is not valid JSON"),
        (dumps(big_ui(20_000)), "huge.json", "20,000 nodes"),
        (png_with({"workflow": "{not json"}), "bad.png", "The workflow is not valid JSON"),
        (
            png_with({"parameters": "a fox\nSteps: 20, Sampler: Euler, CFG scale: 7"}),
            "plain.png",
            "no ComfyUI workflow",
        ),
        (b"\xff\xfe not text", "binary.json", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_workflow_is_rejected_with_a_sentence(creator, content, filename, message):
    model_file = upload(creator, content, filename)
    assert model_file.status == FileStatus.REJECTED
    assert message in model_file.status_message
    assert model_file.status_message.endswith(".")
    assert model_file.blob_id is None  # nothing half-stored


def test_a_json_config_in_another_model_is_not_judged_as_a_workflow(creator):
    model_file = upload(
        creator, b'{"_class_name": "UNet2DConditionModel"}', "config.json", ModelType.CHECKPOINT
    )
    assert model_file.status == FileStatus.READY and "workflow" not in model_file.metadata


def test_api_answers_counts_models_resolved_by_filename_and_hash_and_custom_nodes(client, creator, fan):
    # On the hub: the checkpoint (matched by its file name, whatever folder the workflow puts it in)...
    make_model(creator, name="SDXL base", type=ModelType.CHECKPOINT, filename="sd_xl_base_1.0.safetensors",
               content=demo.tiny_lora(), base_model="SDXL 1.0")  # fmt: skip
    # ...and an upscaler named differently here, matched by the hash the workflow's models[] carries.
    upscaler = make_model(creator, name="Upscaler", type=ModelType.UPSCALER, filename="ultrasharp_v2.safetensors",
                          content=demo.tiny_vae())  # fmt: skip
    upscaler_file = ModelFile.objects.get(version__model=upscaler)
    # A draft holding the embedding must not be offered to anyone.
    make_model(fan, name="Draft emb", type=ModelType.TEXTUAL_INVERSION, filename="easynegative.pt",
               content=demo.tiny_lora(), publish=False)  # fmt: skip
    workflow = ui_04()
    workflow["models"][0]["hash"] = upscaler_file.blob.sha256.lower()
    version = workflow_model(creator, dumps(workflow)).versions.get()

    response = client.get(f"/api/hub/versions/{version.id}/workflow")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"format", "nodes", "links", "models", "custom_node_types", "custom_node_packs"}
    assert (body["format"], body["nodes"], body["links"]) == ("ui", 9, 9)
    assert body["custom_node_types"] == ["UltimateSDUpscale"]
    assert body["custom_node_packs"] == ["comfyui_ultimatesdupscale"]
    by_name = {(m["filename"], m["kind"]): m for m in body["models"]}
    ckpt = by_name[("SDXL\\sd_xl_base_1.0.safetensors", "checkpoints")]
    sdxl = AIModel.objects.get(name="SDXL base")
    assert ckpt["node_id"] == "4" and ckpt["node_type"] == "CheckpointLoaderSimple"
    assert ckpt["resolved"] == {
        "model_id": sdxl.id,
        "version_id": sdxl.versions.get().id,
        "sha256": sdxl.versions.get().files.get().blob.sha256,
    }
    assert by_name[("4x-UltraSharp.pth", "upscale_models")]["resolved"]["model_id"] == upscaler.id
    assert by_name[("easynegative.pt", "embeddings")]["resolved"] is None
    assert set(body["models"][0]) == {"node_id", "node_type", "filename", "kind", "resolved"}


def test_api_visibility_follows_the_version(client, creator, fan, moderator):
    draft = workflow_model(creator, dumps(api_format()), publish=False).versions.get()
    process_file.apply(args=[draft.files.get().id])  # processed, never published
    url = f"/api/hub/versions/{draft.id}/workflow"
    assert client.get(url).status_code == 404  # anonymous
    client.force_login(fan)
    assert client.get(url).status_code == 404  # someone else's draft is not confirmed to exist
    client.force_login(moderator)
    assert client.get(url).status_code == 200
    client.force_login(creator)
    assert client.get(url).json()["format"] == "api"


def test_api_answers_404_for_a_version_without_a_workflow_and_for_junk_ids(client, creator):
    lora = make_model(creator).versions.get()
    assert client.get(f"/api/hub/versions/{lora.id}/workflow").status_code == 404
    assert client.get("/api/hub/versions/99999999/workflow").status_code == 404
    assert client.get("/api/hub/versions/abc/workflow").status_code == 404


def test_the_api_is_in_the_openapi_docs(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/hub/versions/{version_id}/workflow" in schema["paths"]


def test_the_model_page_draws_the_graph_and_lists_what_it_needs(client, creator):
    make_model(creator, name="SDXL base", type=ModelType.CHECKPOINT, filename="sd_xl_base_1.0.safetensors",
               content=demo.tiny_lora(), base_model="SDXL 1.0")  # fmt: skip
    workflow = ui_04(title='<script>alert("x")</script>')
    workflow["nodes"].append(
        {"id": 12, "type": "CLIPVisionLoader", "pos": [0, 900], "size": [300, 60], "mode": 2,
         "widgets_values": ["<b onmouseover=alert(1)>vision</b>.safetensors"], "color": "javascript:alert(1)"}
    )  # fmt: skip
    workflow["models"].append({"name": '"><svg onload=alert(1)>.safetensors', "directory": "loras"})
    model = workflow_model(creator, dumps(workflow))
    page = client.get(model.get_absolute_url()).content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert sorted(re.findall(r'data-node-id="(\d+)"', svg)) == sorted("3 4 5 6 7 8 9 10 11 12".split())
    assert svg.count('class="wf-link"') == 9
    assert "<b onmouseover" not in page and "<svg onload" not in page and "javascript:" not in page
    # The muted node's widget, as text (cut to fit the node).
    assert ">&lt;b onmouseover=alert(1)&gt;vision&lt;/b&gt;.s…</text>" in svg
    assert "&quot;&gt;&lt;svg onload=alert(1)&gt;.safetensors" in page  # listed as needed, as text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    assert "UltimateSDUpscale" in page and "comfyui_ultimatesdupscale" in page
    assert "not on this hub" in page  # the embedding and the upscaler
    sdxl = AIModel.objects.get(name="SDXL base")
    assert f'href="/api/download/models/{sdxl.versions.get().id}"' in page
    assert "js/workflow-graph" in page


def test_a_lora_model_page_has_no_workflow_panel(client, creator):
    model = make_model(creator)
    assert "workflow-graph" not in client.get(model.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_import_models_detects_a_workflow_and_takes_type_workflows(base_models, tmp_path):
    make_user("gina")
    (tmp_path / "wf.json").write_bytes(dumps(api_format()))
    (tmp_path / "wf_image.png").write_bytes(png_with({"workflow": json.dumps(ui_04())}))
    (tmp_path / "notes.json").write_bytes(b'{"hello": "world"}')
    out = io.StringIO()
    call_command("import_models", str(tmp_path), "--owner", "gina", "--wait", stdout=out)
    lines = {
        json.loads(line)["path"].rsplit("/", 1)[-1]: json.loads(line) for line in out.getvalue().splitlines()
    }
    for name in ("wf.json", "wf_image.png"):
        assert lines[name]["status"] == "ready", lines[name]
        model = AIModel.objects.get(id=lines[name]["model_id"])
        assert model.type == ModelType.WORKFLOWS
        assert model.versions.get().files.get().type == FileType.WORKFLOW
    assert AIModel.objects.get(id=lines["notes.json"]["model_id"]).type == ModelType.OTHER
    out = io.StringIO()
    call_command(
        "import_models",
        str(tmp_path / "notes.json"),
        "--owner",
        "gina",
        "--type",
        "Workflows",
        "--wait",
        stdout=out,
    )
    line = json.loads(out.getvalue())
    assert line["status"] == "rejected" and "not a ComfyUI workflow" in line["message"]


def test_the_upload_api_accepts_workflow_files_and_the_upload_page_preselects_workflow(client, creator):
    model = workflow_model(creator, dumps(api_format()), publish=False)
    version = model.versions.get()
    client.force_login(creator)
    for name in ("txt2img.json", "fox.png", "fox.webp"):
        response = client.post(
            "/api/hub/uploads",
            {"version_id": version.id, "filename": name, "size": 1234},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    page = client.get(f"/models/{model.id}/versions/{version.id}/files").content.decode()
    assert '<option value="Workflow" selected>' in page
