"""Images as their own rows (issue 13, item 1): posts, the model page galleries, the image page's
metadata panel, the images APIs, import_images, and served copies without GPS."""

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from PIL import Image as PILImage
from PIL import PngImagePlugin

from community.models import ApiKey
from models_app import services
from models_app.models import ContentBlob, FileType
from models_app.storage import model_storage
from models_app.tasks import release_blob
from resources.models import Image, ImageVersion, Post
from tests.conftest import ClosingClient as Client
from tests.factories import add_example_image, publish_model

pytestmark = pytest.mark.django_db


def png(color="teal", parameters: str | None = None, size=(96, 64)) -> bytes:
    info = PngImagePlugin.PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def settings_for(version, extra="") -> str:
    blob = version.files.get(type=FileType.MODEL).blob
    return (
        "a lighthouse, <lora:tiny:0.8>\nNegative prompt: lowres, bad hands\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 96x64, Model: tiny, "
        f'Lora hashes: "tiny: {blob.sha256[:12].lower()}, missing: 0123456789ab"{extra}'
    )


@pytest.fixture
def lora(creator, run_on_commit):
    return publish_model(creator, run_on_commit, name="Tiny Watercolor")


def post_images(client, run_on_commit, files, **data):
    with run_on_commit():
        return client.post("/posts/new", {"images": files, **data})


def upload(name: str, content: bytes):
    f = io.BytesIO(content)
    f.name = name
    return f


def test_anyone_signed_in_posts_images_linked_to_the_versions_they_used(client, fan, lora, run_on_commit):
    assert client.get("/posts/new").status_code == 302  # to the login page
    client.force_login(fan)
    response = post_images(
        client, run_on_commit, [upload("a.png", png("red", settings_for(lora))), upload("b.png", png("blue"))],
        title="Two lighthouses", versions=str(lora.id),
    )  # fmt: skip
    post = Post.objects.get(owner=fan)
    assert response.status_code == 302 and response["Location"] == f"/posts/{post.id}"
    assert post.title == "Two lighthouses" and post.images.count() == 2
    assert all(i.status == "ready" and i.width == 96 for i in post.images.all())
    assert set(ImageVersion.objects.filter(image__post=post).values_list("version_id", "role")) == {
        (lora.id, "used")
    }
    page = Client().get(f"/posts/{post.id}").content.decode()
    assert page.count('data-testid="post-image"') == 2 and "Two lighthouses" in page


def test_a_file_that_is_not_an_image_is_rejected_with_a_sentence(client, fan, run_on_commit):
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("notes.png", b"these are my notes, not a picture\n" * 20)])
    [image] = Image.objects.filter(owner=fan)
    assert image.status == "rejected" and image.blob_id is None
    assert image.status_message.endswith(".") and len(image.status_message.split()) > 3
    page = client.get(f"/posts/{image.post_id}").content.decode()
    assert 'data-testid="rejected-image"' in page and image.status_message.split(".")[0] in page
    assert Client().get(f"/images/{image.id}/notes.png").status_code == 404


def test_the_model_page_shows_the_examples_and_images_made_with_it_by_others(
    client, creator, fan, lora, run_on_commit
):
    example = add_example_image(lora, run_on_commit, name="example.png", content=png("green"))
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("fan.png", png("red"))], versions=str(lora.id))
    community = Image.objects.get(owner=fan)
    page = Client().get(lora.model.get_absolute_url()).content.decode()
    examples, _, gallery = page.partition('data-testid="made-with"')
    assert f'href="/images/{example.id}" data-testid="example-image"' in examples
    assert f"/images/thumbnails/{community.id}.webp" in gallery and "Images made with this model" in gallery
    assert f"/images/thumbnails/{example.id}.webp" not in gallery  # the creator's own are examples
    assert Client().get(f"/images/thumbnails/{community.id}.webp")["Content-Type"] == "image/webp"


def test_the_image_page_has_copy_buttons_and_links_resources_or_says_not_on_this_hub(
    client, fan, lora, run_on_commit
):
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("a.png", png("red", settings_for(lora)))])
    image = Image.objects.get(owner=fan)
    page = Client().get(f"/images/{image.id}").content.decode()
    assert 'data-copy="a lighthouse, &lt;lora:tiny:0.8&gt;"' in page
    assert 'data-copy="lowres, bad hands"' in page
    for value in ("20", "Euler a", "7.0", "123", "96x64"):
        assert f'data-copy="{value}"' in page
    assert f'href="/models/{lora.model_id}#version-{lora.id}" data-testid="resource-link">tiny</a>' in page
    assert "missing" in page and 'data-testid="not-on-hub">not on this hub' in page
    assert "<script>" not in page and "onclick" not in page  # the CSP allows no inline script
    # Made with a hub version, found by its hash: the model page lists it.
    assert ImageVersion.objects.filter(image=image, version=lora, role="used").exists()


def test_the_hub_api_gives_an_image_with_meta_and_resources(client, fan, lora, run_on_commit):
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("a.png", png("red", settings_for(lora)))])
    image = Image.objects.get(owner=fan)
    data = Client().get(f"/api/hub/images/{image.id}").json()
    assert set(data) == {"id", "url", "width", "height", "nsfw_level", "meta", "resources", "workflow"}
    assert data["url"] == f"http://testserver/images/{image.id}/a.png" and (
        data["width"],
        data["height"],
    ) == (96, 64)
    assert data["meta"]["prompt"] == "a lighthouse, <lora:tiny:0.8>" and data["meta"]["steps"] == 20
    assert data["meta"]["negativePrompt"] == "lowres, bad hands" and data["meta"]["cfgScale"] == 7
    sha = lora.files.get(type=FileType.MODEL).blob.sha256
    assert data["resources"] == [
        # "Model: tiny" names the checkpoint without a hash: listed, not on this hub
        {"kind": "checkpoint", "name": "tiny", "hash": None, "weight": None, "resolved": None},
        {"kind": "lora", "name": "tiny", "hash": sha[:12].lower(), "weight": 0.8,
         "resolved": {"model_id": lora.model_id, "version_id": lora.id, "sha256": sha}},
        {"kind": "lora", "name": "missing", "hash": "0123456789ab", "weight": None, "resolved": None},
    ]  # fmt: skip
    assert data["workflow"] is None
    assert Client().get("/api/hub/images/999999").status_code == 404


def test_scripts_post_images_through_the_api(fan, creator, lora, run_on_commit):
    assert Client().post("/api/hub/images", {"file": upload("a.png", png())}).status_code == 401
    _, raw = ApiKey.create(user=fan, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    with run_on_commit():
        response = api.post("/api/hub/images", {"file": upload("a.png", png()), "version_id": lora.id})
    assert response.status_code == 202
    state = response.json()
    assert state["status"] == "pending" and state["message"] == ""
    assert api.get(f"/api/hub/images/{state['id']}").json()["width"] == 96  # processed by the worker
    assert ImageVersion.objects.filter(image_id=state["id"], version=lora, role="used").exists()
    # Someone else's post: 403; a rejected file: the owner learns why (409), others see nothing.
    other = ApiKey.create(user=creator, name="other")[1]
    refused = Client(headers={"Authorization": f"Bearer {other}"}).post(
        "/api/hub/images", {"file": upload("b.png", png()), "post_id": state["post_id"]}
    )
    assert refused.status_code == 403
    with run_on_commit():
        bad = api.post("/api/hub/images", {"file": upload("c.png", b"not an image at all")}).json()
    answer = api.get(f"/api/hub/images/{bad['id']}")
    assert answer.status_code == 409 and answer.json()["status"] == "rejected" and answer.json()["message"]
    assert Client().get(f"/api/hub/images/{bad['id']}").status_code == 404
    assert api.post("/api/hub/images", {"version_id": lora.id}).status_code == 400


def test_the_civitai_images_list_has_integer_post_ids_and_filters_by_post(client, fan, lora, run_on_commit):
    example = add_example_image(lora, run_on_commit, name="example.png", content=png("green"))
    client.force_login(fan)
    post_images(
        client, run_on_commit, [upload("a.png", png("red", settings_for(lora)))], versions=str(lora.id)
    )
    community = Image.objects.get(owner=fan)
    items = Client().get("/api/v1/images?withMeta=true").json()["items"]
    assert {i["id"]: i["postId"] for i in items} == {
        example.id: example.post_id,
        community.id: community.post_id,
    }
    assert all(isinstance(i["postId"], int) for i in items)
    by_id = {i["id"]: i for i in items}
    assert by_id[community.id]["meta"]["prompt"] == "a lighthouse, <lora:tiny:0.8>"
    assert by_id[community.id]["username"] == fan.username and by_id[community.id]["modelVersionIds"] == [
        lora.id
    ]
    only = Client().get(f"/api/v1/images?postId={community.post_id}").json()["items"]
    assert [i["id"] for i in only] == [community.id]
    assert Client().get("/api/v1/images?postId=999999").json()["items"] == []
    assert [i["id"] for i in Client().get(f"/api/v1/images?modelVersionId={lora.id}").json()["items"]] == [
        community.id, example.id
    ]  # fmt: skip


def test_import_images_prints_one_json_line_per_file(tmp_path, fan, lora, run_on_commit):
    (tmp_path / "good.png").write_bytes(png("red", settings_for(lora)))
    (tmp_path / "bad.png").write_bytes(b"plain text pretending to be a picture")
    out = io.StringIO()
    with run_on_commit():  # without --wait: queued for the worker, which runs after the commit
        call_command("import_images", str(tmp_path / "good.png"), str(tmp_path / "bad.png"),
                     str(tmp_path / "gone.png"), "--owner", fan.username, "--version", str(lora.id),
                     stdout=out)  # fmt: skip
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["path"].rsplit("/", 1)[1], line["status"]) for line in lines] == [
        ("good.png", "pending"), ("bad.png", "pending"), ("gone.png", "rejected")
    ]  # fmt: skip
    assert lines[2] == {"path": str(tmp_path / "gone.png"), "image_id": None, "status": "rejected",
                        "message": "No such file."}  # fmt: skip
    good, bad = (Image.objects.get(id=line["image_id"]) for line in lines[:2])
    assert good.status == "ready" and bad.status == "rejected" and bad.status_message.endswith(".")
    assert ImageVersion.objects.filter(image=good, version=lora, role="used").exists()


@pytest.mark.django_db(transaction=True)
def test_import_images_waits_for_the_verdicts(tmp_path, base_models, fan):
    (tmp_path / "good.png").write_bytes(
        png("red", "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")
    )
    (tmp_path / "bad.png").write_bytes(b"plain text pretending to be a picture")
    out = io.StringIO()
    call_command("import_images", str(tmp_path), "--owner", fan.username, "--wait", stdout=out)
    bad, good = (json.loads(line) for line in out.getvalue().splitlines())  # a folder: sorted by name
    assert good["status"] == "ready" and good["message"] == "" and isinstance(good["image_id"], int)
    assert bad["status"] == "rejected" and bad["message"].endswith(".") and len(bad["message"].split()) > 3
    assert Client().get(f"/api/hub/images/{good['image_id']}").json()["meta"]["prompt"] == "a cat"


def gps_jpeg() -> bytes:
    exif = PILImage.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS 5D", "hub-test"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 31.0, 12.0), "E", (13.0, 24.0, 18.0)
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + "a quiet harbour\nSteps: 20, Seed: 7".encode("utf-16-be")
    out = io.BytesIO()
    PILImage.new("RGB", (80, 60), "orange").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_served_copies_keep_no_gps_or_camera_but_keep_the_generation_text(client, fan, run_on_commit):
    original = gps_jpeg()
    assert PILImage.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload has a position
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("harbour.jpg", original)])
    image = Image.objects.get(owner=fan)
    response = Client().get(f"/images/{image.id}/harbour.jpg")
    served = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200 and served != original
    exif = PILImage.open(io.BytesIO(served)).getexif()
    assert not exif.get_ifd(0x8825) and 0x8825 not in exif
    assert 0x010F not in exif and 0x0110 not in exif and exif[0x0131] == "hub-test"
    comment = exif.get_ifd(0x8769)[0x9286]
    assert (
        "a quiet harbour" in comment.decode("utf-16-be", "ignore") if isinstance(comment, bytes) else comment
    )
    assert b"Canon" not in served and b"EOS 5D" not in served
    assert PILImage.open(io.BytesIO(served)).size == (80, 60)
    thumbnail = Client().get(f"/images/thumbnails/{image.id}.webp").content
    assert not PILImage.open(io.BytesIO(thumbnail)).getexif()
    # The stored copy is a blob like any other: hashed and keyed by its content.
    assert hashlib.sha256(served).hexdigest().upper() == image.blob.sha256


def test_a_blob_an_image_uses_is_not_released_when_the_example_file_is_deleted(
    client, creator, fan, lora, run_on_commit
):
    example = add_example_image(lora, run_on_commit, name="example.png", content=png("green"))
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("same.png", png("green"))])  # the same bytes
    copy = Image.objects.get(owner=fan)
    assert copy.blob_id == example.blob_id
    with run_on_commit():
        services.delete_file(model_file=lora.files.get(type=FileType.IMAGE), by=creator)
    assert release_blob(example.blob_id) == "in use"
    assert model_storage().exists(ContentBlob.objects.get(id=example.blob_id).storage_key)
    assert Client().get(f"/images/{example.id}/example.png").status_code == 404  # gone with its file
    assert Client().get(f"/images/{copy.id}/same.png").status_code == 200
    Image.objects.filter(id=copy.id).delete()
    assert release_blob(example.blob_id) == "released"


def test_a_posted_image_whose_message_was_lost_is_processed_by_the_sweep(fan, run_on_commit):
    from datetime import timedelta

    from django.utils import timezone

    from resources import images
    from resources.tasks import sweep_stuck_images

    image = images.add_image(owner=fan, name="late.png", content=io.BytesIO(png()))  # its message is lost
    assert sweep_stuck_images() == 0  # not late yet
    Image.objects.filter(id=image.id).update(created_at=timezone.now() - timedelta(hours=1))
    with run_on_commit():
        assert sweep_stuck_images() == 1
    image.refresh_from_db()
    assert image.status == "ready" and image.upload_key == ""


def test_a_mature_community_image_is_left_out_of_the_gallery_for_visitors_who_hide_mature(
    client, fan, lora, run_on_commit
):
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("m.png", png("red"))], versions=str(lora.id), nsfw_level="4")
    image = Image.objects.get(owner=fan)
    assert image.nsfw and image.nsfw_level == 4
    page = Client().get(lora.model.get_absolute_url()).content.decode()
    assert f"/images/thumbnails/{image.id}.webp" not in page
    assert "No one has posted images made with it yet." in page


def test_refresh_images_strips_an_image_stored_before_and_links_its_resources(fan, lora, run_on_commit):
    """As after migration 0002: an example image whose bytes were never cleaned."""
    example = add_example_image(lora, run_on_commit, name="old.jpg", content=gps_jpeg())
    raw_blob = lora.files.get(type=FileType.IMAGE).blob
    # the bytes as uploaded, GPS and all, marked as migration 0003 marks the moved images
    Image.objects.filter(id=example.id).update(blob=raw_blob, stripped=False)
    example.resources.all().delete()
    # Until then the image is stripped on the way out, and the HF repo leaves it out of images/.
    response = Client().get(f"/images/{example.id}/old.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert not PILImage.open(io.BytesIO(response.content)).getexif().get_ifd(0x8825)
    assert b"Canon" not in response.content
    repo = f"{lora.model.owner.username}/{lora.model.slug}"
    siblings = Client().get(f"/api/models/{repo}").json()["siblings"]
    assert not [s for s in siblings if s["rfilename"].startswith("images/")]
    out = io.StringIO()
    call_command("refresh_images", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue()) == {"image_id": example.id, "status": "ready", "stripped": True}
    served = b"".join(Client().get(f"/images/{example.id}/old.jpg").streaming_content)
    assert not PILImage.open(io.BytesIO(served)).getexif().get_ifd(0x8825)


def test_a_drafts_example_image_is_for_its_creator_and_moderators_only(
    creator, fan, moderator, run_on_commit
):
    draft = publish_model(creator, run_on_commit, name="Draft LoRA")
    example = add_example_image(draft, run_on_commit, name="d.png", content=png("olive"))
    services.unpublish_version(version=draft, by=creator)

    def as_user(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    assert as_user(creator).get(f"/api/hub/images/{example.id}").status_code == 200
    assert as_user(moderator).get(f"/api/hub/images/{example.id}").status_code == 200
    assert as_user(fan).get(f"/api/hub/images/{example.id}").status_code == 404
    assert as_user(None).get(f"/api/hub/images/{example.id}").status_code == 404
    assert as_user(None).get(f"/images/{example.id}").status_code == 404
    assert as_user(creator).get(f"/images/{example.id}").status_code == 200


def test_an_image_carrying_a_comfyui_workflow_opens_as_that_workflow(client, fan, creator, run_on_commit):
    from tests.resources.workflow_samples import ui_04

    checkpoint = publish_model(
        creator, run_on_commit, name="SDXL Base", type="Checkpoint", filename="sd_xl_base_1.0.safetensors"
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", json.dumps(ui_04(title="<script>alert(1)</script>")))
    out = io.BytesIO()
    PILImage.new("RGB", (64, 64), "navy").save(out, "PNG", pnginfo=info)
    client.force_login(fan)
    post_images(client, run_on_commit, [upload("comfy.png", out.getvalue())])
    image = Image.objects.get(owner=fan)

    data = client.get(f"/api/hub/images/{image.id}").json()
    flow = data["workflow"]
    assert (
        flow["format"] == "ui" and flow["nodes"] == 9 and flow["links"] == 9
    )  # the dangling link is not one
    [loader] = [m for m in flow["models"] if m["filename"].endswith("sd_xl_base_1.0.safetensors")]
    assert loader["resolved"]["version_id"] == checkpoint.id  # publish_model gives the version
    assert flow["custom_node_types"] == ["UltimateSDUpscale"]

    page = client.get(f"/images/{image.id}").content.decode()
    assert "Open as workflow" in page and 'href="#workflow"' in page
    assert page.count("data-node-id=") == 9
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_worker_sweep_stores_the_served_copy_of_a_moved_image(fan, lora, run_on_commit):
    from resources.tasks import sweep_stuck_images

    example = add_example_image(lora, run_on_commit, name="old.jpg", content=gps_jpeg())
    raw_blob = lora.files.get(type=FileType.IMAGE).blob
    Image.objects.filter(id=example.id).update(blob=raw_blob, stripped=False)  # as after migration 0003
    with run_on_commit():
        sweep_stuck_images()  # tasks run inline in tests
    example.refresh_from_db()
    assert example.stripped and example.blob_id != raw_blob.id
    with model_storage().open(example.blob.storage_key, "rb") as f:
        assert not PILImage.open(io.BytesIO(f.read())).getexif().get_ifd(0x8825)
    repo = f"{lora.model.owner.username}/{lora.model.slug}"
    siblings = Client().get(f"/api/models/{repo}").json()["siblings"]
    assert [s["rfilename"] for s in siblings if s["rfilename"].startswith("images/")] == ["images/old.jpg"]
