"""Blocked terms and transparent refusals (docs/moderation.md#blocked-terms): the matching rules, the
`block_term` command, and every write path refusing with the rule, the field and the term, as a
sentence on the page and as {"detail", "code", "field", "term"} in the API. Nothing is stored."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from community.models import ApiKey, Collection, Comment
from models_app.models import AIModel
from moderation import blocked_terms
from moderation.models import BlockedTerm
from tests.factories import make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(db):
    for term in ("badword", "cunt", "heil", "red dragon"):
        blocked_terms.block(term)


def found(text: str) -> str | None:
    return blocked_terms.find_blocked(text, blocked_terms.active_terms())


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("a badword here", "badword"),
        ("BADWORD!", "badword"),  # case
        ("bädwörd", "badword"),  # accents
        ("b4dw0rd", "badword"),  # leetspeak
        ("B@DW0RD", "badword"),
        ("ｂａｄｗｏｒｄ", "badword"),  # fullwidth letters
        ("bad\u200bword", "badword"),  # a zero-width space inside the word
        ("b\u0430dw\u043erd", "badword"),  # Cyrillic а and о that look Latin
        ("the Red  Dragon sleeps", "red dragon"),  # a phrase, any spacing
        ("red-dragon", "red dragon"),
        ("h3il", "heil"),
    ],
)
def test_a_term_is_found_through_case_accents_and_leetspeak(blocked, text, term):
    assert found(text) == term


@pytest.mark.parametrize("text", ["Scunthorpe United", "badwords", "notbadword", "hell", "reddragon", ""])
def test_words_that_merely_contain_a_term_pass(blocked, text):
    assert found(text) is None


def test_the_command_blocks_lists_and_unblocks_terms():
    out = io.StringIO()
    call_command("block_term", "  Bäd   Word ", stdout=out)
    assert BlockedTerm.objects.get().term == "bad word"
    call_command("block_term", "--list", stdout=out)
    assert out.getvalue().splitlines()[-1] == "bad word"
    with pytest.raises(CommandError, match="2 to 100 characters"):
        call_command("block_term", "x")
    call_command("block_term", "bad word", "--remove", stdout=out)
    assert not BlockedTerm.objects.exists()


# --- Every write path refuses, says why, and stores nothing.


def api(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


REASON = {"code": "blocked_term", "term": "badword"}


def test_the_api_refuses_a_model_named_with_a_blocked_term(blocked, creator):
    response = api(creator).post(
        "/api/hub/models", {"name": "My b4dword LoRA", "type": "LORA"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        **REASON,
        "field": "name",
        "detail": "The name contains “badword”, which this hub does not allow (rule: blocked terms). "
        "Remove it and try again.",
    }
    assert not AIModel.objects.exists()


def test_the_api_refuses_a_description_and_tags_on_edit(blocked, creator):
    model = make_model(creator)
    client = api(creator)
    response = client.patch(
        f"/api/hub/models/{model.id}",
        {"description": "Great for BADWORD art"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["field"]) == (400, "description")
    response = client.patch(
        f"/api/hub/models/{model.id}", {"tags": ["ok", "badword"]}, content_type="application/json"
    )
    assert (response.status_code, response.json()["field"]) == (400, "tags")
    model.refresh_from_db()
    assert "BADWORD" not in model.description and "badword" not in [t.name for t in model.tags.all()]


def test_the_api_refuses_trigger_words_on_a_version(blocked, creator):
    version = make_model(creator).versions.get()
    response = api(creator).patch(
        f"/api/hub/versions/{version.id}", {"trained_words": ["b4dword"]}, content_type="application/json"
    )
    assert (response.status_code, response.json()["field"], response.json()["term"]) == (
        400,
        "trained_words",
        "badword",
    )


def test_the_model_form_shows_the_sentence_and_keeps_what_was_typed(blocked, client, creator):
    client.force_login(creator)
    response = client.post("/models/new", {"name": "Tiny", "type": "LORA", "description": "so badword"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The description contains “badword”, which this hub does not allow" in page
    assert "so badword" in page  # the text stays in the form
    assert not AIModel.objects.exists()


def test_comments_are_refused_with_the_reason_on_the_api_and_the_page(blocked, creator, fan):
    model = make_model(creator)
    response = api(fan).post(
        "/api/hub/comments",
        {"target_type": "model", "target_id": model.id, "body": "what a b4dword"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() | {"detail": ""} == {**REASON, "field": "body", "detail": ""}
    assert "The comment contains “badword”" in response.json()["detail"]
    page = Client()
    page.force_login(fan)
    answer = page.post(
        f"/comments/model/{model.id}/post", {"body": "badword!"}, headers={"X-Comments": "fragment"}
    )
    assert answer.status_code == 400 and "The comment contains “badword”" in answer.content.decode()
    assert not Comment.objects.exists()


def test_reviews_collections_and_bios_are_refused_with_the_reason(blocked, creator, fan):
    version = make_model(creator).versions.get()
    client = api(fan)
    review = client.put(
        f"/api/hub/versions/{version.id}/review",
        {"recommended": True, "text": "badword"},
        content_type="application/json",
    )
    collection = client.post(
        "/api/hub/collections", {"name": "Badword picks"}, content_type="application/json"
    )
    bio = client.patch("/api/hub/profile", {"bio": "I say h31l"}, content_type="application/json")
    assert [(r.status_code, r.json()["field"], r.json()["term"]) for r in (review, collection, bio)] == [
        (400, "text", "badword"),
        (400, "name", "badword"),
        (400, "bio", "heil"),
    ]
    assert not Collection.objects.filter(owner=fan, is_favorites=False).exists()


def test_an_image_post_title_is_refused(blocked, creator):
    from resources import images

    with pytest.raises(blocked_terms.ContentRefused) as refused:
        images.create_post(owner=creator, title="Red dragon at dawn")
    assert (refused.value.field, refused.value.term) == ("title", "red dragon")


def test_without_blocked_terms_everything_passes(creator):
    response = api(creator).post(
        "/api/hub/models", {"name": "badword LoRA", "type": "LORA"}, content_type="application/json"
    )
    assert response.status_code == 201
