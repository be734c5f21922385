"""Junk in URLs and query strings gets a 4xx with a reason, never a 500 (docs/hostile-input.md)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HUGE = "9" * 25

URLS = [
    f"/models/{HUGE}", f"/models/{HUGE}/x", f"/models/1/compare?a={HUGE}&b=x",
    f"/api/hub/versions/{HUGE}/files", f"/api/hub/uploads/{HUGE}/parts", f"/api/download/models/{HUGE}",
    "/user/%00", "/tag/%00", "/search/?q=%00", "/models/?cursor=%00", f"/models/?limit={HUGE}",
    "/api/hub/models?cursor=eyJ4IjoxfQ", "/api/hub/models?sort=rated&cursor=WyJ4IiwgMV0",
    "/api/v1/model-versions/by-hash/%00", "/models/?type=%00", "/api/hub/models?creator=%00&tag=%00",
    "/search/?q=" + "a" * 5000, "/models/?base_model=%00", "/%00",
]  # fmt: skip


# Pages that answer junk with the page itself and a message (or a shortened query), not an error.
HANDLED_ON_THE_PAGE = {f"/models/?limit={HUGE}", "/search/?q=" + "a" * 5000}


@pytest.mark.parametrize("url", URLS)
def test_junk_in_a_url_is_a_client_error_not_a_server_error(url):
    response = Client(raise_request_exception=False).get(url)
    if url in HANDLED_ON_THE_PAGE:
        assert response.status_code == 200, url
    else:
        assert 400 <= response.status_code < 500, (url, response.status_code)


def test_a_bad_browse_parameter_is_explained_on_the_page():
    assert "limit must be between 1 and 100" in Client().get(f"/models/?limit={HUGE}").content.decode()


def test_a_nul_character_is_refused_with_a_reason():
    response = Client().get("/api/hub/models?tag=%00")
    assert response.status_code == 400 and response.json() == {
        "detail": "The request contains a NUL character."
    }
    response = Client().get("/api/v1/models?tag=%00")  # CivitAI's clients read `error`
    assert response.status_code == 400 and response.json() == {
        "error": "The request contains a NUL character."
    }


def test_a_nul_character_in_an_api_body_is_a_field_error(client, creator):
    client.force_login(creator)
    response = client.post(
        "/api/hub/models",
        {"name": "evil\x00name", "type": "LORA", "tags": ["a\x00"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "name" in response.json()


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/hub/models", '{"name": "x", "type": "LORA", "tags": ' + DEEP + "}"),
        ("/api/hub/models", DEEP),
        ("/api/hub/models/{model}/versions", '{"name": "v2", "trained_words": ' + DEEP + "}"),
        ("/api/hub/uploads", '{"version_id": ' + DEEP + "}"),
    ],
)
def test_a_json_body_nested_too_deeply_is_a_400_that_says_so(creator, path, body):
    """With an API key, as a script would send it: RecursionError used to surface as a 500."""
    from community.models import ApiKey
    from models_app.models import AIModel
    from tests.factories import make_model

    model = make_model(creator)
    _, key = ApiKey.create(user=creator, name="script")
    models_before = AIModel.objects.count()
    response = Client(raise_request_exception=False).post(
        path.format(model=model.id), body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is nested too deeply; at most 32 levels are allowed."
    }
    assert AIModel.objects.count() == models_before and model.versions.count() == 1


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"name": "x", "type": "LORA", "nsfw": NaN}', "not valid JSON"),
        ('{"name": "x", "type": "LORA", "tags": [Infinity]}', "not valid JSON"),
        (b'{"name": "\xff"}', "not UTF-8"),
        ('{"name": "x",', "not valid JSON"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_with_the_reason(client, creator, body, reason):
    client.force_login(creator)
    response = client.post("/api/hub/models", body, content_type="application/json")
    assert response.status_code == 400 and reason in response.json()["detail"]


def test_the_civitai_hash_batch_refuses_a_deep_body_with_its_own_error_shape(client):
    response = client.post("/api/v1/model-versions/by-hash", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Request must include an array of SHA256 Hashes.")
    assert "nested too deeply" in response.json()["error"]
