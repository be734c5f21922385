"""Model cards show a preview: the first example image of the newest published version."""

import io

import pytest
from django.test import Client

from models_app import cards, demo, services
from models_app.models import AIModel, FileType, ModelVersion, PublishStatus
from tests.factories import image_of, make_model

pytestmark = pytest.mark.django_db


def add_image(version, run_on_commit, name="hills.png", colors=((10, 20, 30), (200, 180, 90))):
    """The example image's Image row (resources), whose id is in its URLs."""
    with run_on_commit():
        model_file = services.add_file(
            version=version, name=name, content=io.BytesIO(demo.example_image(*colors)), type=FileType.IMAGE
        )
    return image_of(model_file)


@pytest.fixture
def model(creator, run_on_commit):
    with run_on_commit():
        return make_model(creator, name="Hills LoRA")


def test_a_published_image_becomes_the_cards_preview_and_its_thumbnail_is_served(
    client, model, run_on_commit
):
    assert (
        'class="card-preview type-lora" aria-hidden="true"><span>' in client.get("/models/").content.decode()
    )
    image = add_image(model.versions.get(), run_on_commit)  # after publishing: processing refreshes the card
    model.refresh_from_db()
    assert model.preview_image_id == image.id
    html = client.get("/models/").content.decode()
    assert f'<img src="/images/thumbnails/{image.id}.webp"' in html
    thumbnail = client.get(f"/images/thumbnails/{image.id}.webp")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    assert thumbnail.content[:4] == b"RIFF" and thumbnail.content[8:12] == b"WEBP"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    page = client.get(model.get_absolute_url()).content.decode()
    assert f'src="/images/thumbnails/{image.id}.webp"' in page and 'data-testid="example-image"' in page


def test_the_newest_published_version_gives_the_preview_and_drafts_never_do(creator, model, run_on_commit):
    first = add_image(model.versions.get(), run_on_commit)
    draft = services.create_version(model=model, name="v2.0", base_model="SD 1.5")
    draft_image = add_image(draft, run_on_commit, name="v2.png")
    model.refresh_from_db()
    assert model.preview_image_id == first.id  # a draft's image is not shown
    assert Client().get(f"/images/thumbnails/{draft_image.id}.webp").status_code == 404
    with run_on_commit():
        services.add_file(version=draft, name="v2.safetensors", content=io.BytesIO(demo.tiny_lora()))
    services.publish_version(version=draft, by=creator)
    model.refresh_from_db()
    assert model.preview_image_id == draft_image.id


def test_unpublishing_drops_the_preview_and_unknown_thumbnails_are_404(client, model, run_on_commit):
    image = add_image(model.versions.get(), run_on_commit)
    ModelVersion.objects.filter(model=model).update(status=PublishStatus.UNPUBLISHED)
    cards.refresh_card_fields(model_ids=[model.id])
    assert AIModel.objects.get(id=model.id).preview_image_id is None
    assert client.get(f"/images/thumbnails/{image.id}.webp").status_code == 404
    assert client.get("/images/thumbnails/999999.webp").status_code == 404
    primary = model.versions.get().files.get(type=FileType.MODEL)
    assert client.get(f"/images/thumbnails/{primary.id}.webp").status_code == 404


def test_the_whole_catalog_refresh_finds_previews_when_versions_come_in_several_slices(
    creator, model, run_on_commit, monkeypatch
):
    """A whole catalog's refresh asks for example images a slice of versions at a time (a 100k catalog
    names 300k versions, past PostgreSQL's 65,535 parameters a statement)."""
    from resources import images

    second = make_model(creator, name="Second LoRA")
    first_image = add_image(model.versions.get(), run_on_commit)
    second_image = add_image(second.versions.get(), run_on_commit, name="second.png")
    AIModel.objects.update(preview_image_id=None)
    monkeypatch.setattr(images, "PREVIEW_SLICE", 1)
    cards.refresh_card_fields()
    previews = dict(AIModel.objects.values_list("id", "preview_image_id"))
    assert previews[model.id] == first_image.id and previews[second.id] == second_image.id
