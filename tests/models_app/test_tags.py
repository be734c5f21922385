"""Tags are stored in one safe form, so every tag link works and a tag can never break a page."""

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from models_app.models import AIModel, Tag, normalize_tag
from tests.factories import make_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("sd1.5/anime", "sd1.5 anime"),
        ("  Concept   Art ", "concept art"),
        ("Sci-Fi", "sci-fi"),
        ("c++", "c++"),
        ("アニメ", "アニメ"),
        ("a\\b?c%d", "a b c d"),
        ("..", ""),
        ("../etc", "etc"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ],
)
def test_a_tag_is_stored_in_its_safe_form(raw, stored):
    assert normalize_tag(raw) == stored


def test_a_tag_with_a_slash_from_the_api_links_to_its_own_page(creator):
    client = Client()
    client.force_login(creator)
    response = client.post(
        "/api/hub/models",
        {"name": "Slashy", "type": "LORA", "tags": ["sd1.5/anime", "Style"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    model = AIModel.objects.get(id=response.json()["id"])
    assert sorted(model.tags.values_list("name", flat=True)) == ["sd1.5 anime", "style"]


def test_the_model_page_and_the_tag_page_work_for_every_tag_a_creator_can_write(client, creator):
    make_model(creator, name="Tagged", tags=["sd1.5/anime", "r&b", "#1 pick", "50% off?"])
    model = AIModel.objects.get(name="Tagged")
    page = client.get(model.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    for tag in model.tags.all():
        assert tag.name.replace("&", "&amp;") in html
        link = reverse("models_app:tag", args=[tag.name])  # the href the page shows
        assert f'href="{escape(link)}"' in html
        listing = client.get(link)
        assert listing.status_code == 200 and "Tagged" in listing.content.decode(), tag.name


def test_the_wizard_stores_the_safe_form(client, creator):
    client.force_login(creator)
    response = client.post(
        "/models/new",
        {"name": "Wizard Tags", "type": "LORA", "tags": "sd1.5/anime, Style", "description": ""},
    )
    assert response.status_code == 302
    model = AIModel.objects.get(name="Wizard Tags")
    assert sorted(model.tags.values_list("name", flat=True)) == ["sd1.5 anime", "style"]


def test_a_tag_link_typed_in_another_form_finds_the_same_models(client, creator):
    make_model(creator, name="Tagged", tags=["sd1.5 anime"])
    assert "Tagged" in client.get("/tag/SD1.5%2Fanime").content.decode()  # an encoded slash, as old links had
    assert "Tagged" in client.get("/models/?tag=SD1.5/Anime").content.decode()
    items = client.get("/api/v1/models?tag=sd1.5/anime").json()["items"]
    assert [item["name"] for item in items] == ["Tagged"]


def test_the_admin_stores_the_safe_form_too():
    tag = Tag.objects.create(name="Sd1.5/Anime")
    tag.refresh_from_db()
    assert tag.name == "sd1.5 anime"


def test_tags_written_before_the_safe_form_are_renamed_or_merged(creator):
    first = make_model(creator, name="First", tags=["style"])
    second = make_model(creator, name="Second", tags=["style"])
    third = make_model(creator, name="Third", tags=["keep"])
    # Rows as they were before: written without normalising, bypassing the model's save().
    broken = Tag.objects.create(name="placeholder-a")
    Tag.objects.filter(id=broken.id).update(name="sd1.5/anime")
    duplicate = Tag.objects.create(name="placeholder-b")
    Tag.objects.filter(id=duplicate.id).update(name="Style/")
    empty = Tag.objects.create(name="placeholder-c")
    Tag.objects.filter(id=empty.id).update(name="//")
    first.tags.add(broken, duplicate)
    second.tags.add(duplicate, empty)

    migration = importlib.import_module("models_app.migrations.0015_safe_tag_names")
    migration.normalize_tags(apps, None)

    assert sorted(Tag.objects.values_list("name", flat=True)) == ["keep", "sd1.5 anime", "style"]
    names = {m.name: sorted(m.tags.values_list("name", flat=True)) for m in (first, second, third)}
    assert names == {"First": ["sd1.5 anime", "style"], "Second": ["style"], "Third": ["keep"]}
    first.refresh_from_db()
    assert first.tag_names == ["sd1.5 anime", "style"]
