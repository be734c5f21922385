"""`manage.py seed_demo`: the content a newcomer sees after `make run`."""

import io

import pytest
import safetensors
from django.contrib.auth import get_user_model
from django.core.management import call_command

from models_app.models import AIModel, ModelFile, PublishStatus
from models_app.storage import model_storage
from resources.models import Image

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_creates_a_creator_a_moderator_and_published_models_with_real_files(run_on_commit):
    with run_on_commit():
        seed()
    User = get_user_model()
    demo_user, moderator = User.objects.get(username="demo"), User.objects.get(username="moderator")
    assert moderator.has_perm("models_app.moderate_content")
    assert not demo_user.has_perm("models_app.moderate_content")
    models = AIModel.objects.filter(owner=demo_user)
    assert {m.type for m in models} == {"LORA", "Checkpoint", "VAE", "Wildcards", "Workflows"}
    assert all(m.status == PublishStatus.PUBLISHED for m in models)
    assert all(model_file.status == "ready" for model_file in ModelFile.objects.all())
    pack = ModelFile.objects.get(version__model__type="Wildcards")
    assert pack.metadata["wildcards"]["lists"]["style/paint"] == ["watercolor", "gouache", "ink wash"]
    # The demo workflow needs the demo checkpoint and LoRA, which its page links.
    flow = ModelFile.objects.get(version__model__type="Workflows")
    summary = flow.metadata["workflow"]["summary"]
    assert (summary["nodes"], summary["links"]) == (8, 11)
    assert {m["filename"] for m in summary["models"]} == {
        "tiny-realism-fp16.safetensors",
        "tiny-watercolor.safetensors",
    }
    for model_file in ModelFile.objects.exclude(type="Image").exclude(id__in=[pack.id, flow.id]):
        with model_storage().open(model_file.blob.storage_key, "rb") as f:
            tensors = dict(safetensors.deserialize(f.read()))  # the reference parser accepts them
        assert tensors
    # Example images with their generation settings, shown as the cards' previews.
    images = Image.objects.filter(owner=demo_user)
    assert images.count() == 2 and all(i.status == "ready" and i.meta["prompt"] for i in images)
    assert {m.preview_image_id for m in models} == {*images.values_list("id", flat=True), None}
    # One community image in a post, made with two of the demo models, which its page links.
    [community] = Image.objects.exclude(owner=demo_user)
    assert community.status == "ready" and community.post.title == "Lighthouse in watercolor"
    assert {r.version.model.name for r in community.resources.all()} == {"Tiny Realism", "Tiny Watercolor"}
    lora = ModelFile.objects.get(version__model__type="LORA", type="Model")
    with model_storage().open(lora.blob.storage_key, "rb") as f:
        header = f.read(8 + int.from_bytes(f.read(8), "little"))
    assert b'"ss_network_module":"networks.lora"' in header


def test_seeding_twice_changes_nothing():
    seed()
    counts = (AIModel.objects.count(), ModelFile.objects.count(), get_user_model().objects.count())
    output = seed()
    assert (AIModel.objects.count(), ModelFile.objects.count(), get_user_model().objects.count()) == counts
    assert "already exists" in output


def test_passwords_are_printed_only_in_development(settings):
    settings.DEBUG = False
    output = seed()
    assert "password" not in output.lower() or "changepassword" in output
    assert "demo-creator-pw" not in output
    assert not get_user_model().objects.get(username="demo").has_usable_password()


def test_development_passwords_let_the_demo_users_log_in(settings, client):
    settings.DEBUG = True
    output = seed()
    assert "demo-creator-pw" in output
    response = client.post("/accounts/login/", {"login": "demo", "password": "demo-creator-pw"})
    assert response.status_code == 302


def test_seed_gives_the_demo_a_small_lineage(run_on_commit):
    from community.models import VersionParent

    with run_on_commit():
        seed()
    links = {
        (link.child.model.name, link.parent.model.name): link
        for link in VersionParent.objects.select_related("child__model", "parent__model")
    }
    assert set(links) == {("Tiny Watercolor", "Tiny Realism"), ("Tiny Dream Mix", "Tiny Realism")}
    lora, merge = links["Tiny Watercolor", "Tiny Realism"], links["Tiny Dream Mix", "Tiny Realism"]
    assert (lora.relation, lora.confirmed) == ("lora_of", True)
    # Proposed by the worker from the merge recipe in the file, for the demo creator to confirm.
    assert (merge.relation, merge.weight, merge.confirmed, merge.source) == (
        "merge_of",
        0.7,
        False,
        "metadata",
    )
    seed()  # again: nothing new
    assert VersionParent.objects.count() == 2


def test_seed_opens_a_crowdfunding_goal_shown_without_a_pay_form(run_on_commit, client):
    from models_app.models import FundingGoal

    with run_on_commit():
        seed()
        seed()  # once only
    goal = FundingGoal.objects.get()
    assert (goal.model.name, goal.title, goal.target, goal.status) == (
        "Tiny Watercolor", "Train the SDXL version", 50_000, "open"
    )  # fmt: skip
    page = client.get(goal.model.get_absolute_url()).content.decode()
    assert "Train the SDXL version" in page and "<progress" in page
    assert "/contribute" not in page  # no Stripe keys: nothing offers to pay


def test_seed_leaves_one_report_for_the_demo_moderator(run_on_commit, client):
    from moderation.models import Report

    with run_on_commit():
        seed()
        seed()  # once only
    report = Report.objects.get()
    assert (report.reporter.username, report.target_type, report.reason) == (
        "artist",
        "model",
        "mislabelled_level",
    )
    client.force_login(get_user_model().objects.get(username="moderator"))
    assert "Tiny Realism" in client.get("/moderation/").content.decode()
