"""/models/ and the browse API: filters and sorts in the URL, cursor pagination, visibility rules."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from models_app import demo
from models_app.dates import iso_z
from models_app.models import AIModel
from tests.factories import make_model
from tests.models_app.test_scanning import BENIGN, torch_zip

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def catalog(creator, fan, run_on_commit):
    with run_on_commit():
        make_model(creator, name="Ink LoRA", tags=["ink"])
        make_model(
            creator,
            name="Real Checkpoint",
            type="Checkpoint",
            base_model="SDXL 1.0",
            content=demo.tiny_checkpoint(),
        )
        make_model(fan, name="Fan VAE", type="VAE", content=torch_zip(BENIGN), filename="vae.pt")
        make_model(creator, name="Spicy LoRA", nsfw_level=4)
        make_model(creator, name="Draft LoRA", publish=False)
    AIModel.objects.filter(name="Real Checkpoint").update(download_count=50)
    AIModel.objects.filter(name="Fan VAE").update(published_at=timezone.now() - timedelta(days=40))


def test_browse_lists_published_sfw_models_newest_first(client, catalog):
    assert names(client.get("/api/hub/models")) == ["Real Checkpoint", "Ink LoRA", "Fan VAE"]


def test_filters_by_type_base_model_tag_creator_and_period(client, catalog):
    assert names(client.get("/api/hub/models", {"type": "VAE"})) == ["Fan VAE"]
    assert names(client.get("/api/hub/models", {"type": "LORA,Checkpoint"})) == [
        "Real Checkpoint",
        "Ink LoRA",
    ]
    assert names(client.get("/api/hub/models", {"base_model": "SDXL 1.0"})) == ["Real Checkpoint"]
    assert names(client.get("/api/hub/models", {"tag": "INK"})) == ["Ink LoRA"]
    assert names(client.get("/api/hub/models", {"creator": "bob"})) == ["Fan VAE"]
    assert names(client.get("/api/hub/models", {"period": "month"})) == ["Real Checkpoint", "Ink LoRA"]


def test_safetensors_only_leaves_out_pickle_only_models(client, catalog):
    assert "Fan VAE" not in names(client.get("/api/hub/models", {"safetensors": "true"}))


def test_most_downloaded_sorts_by_downloads(client, catalog):
    assert names(client.get("/api/hub/models", {"sort": "downloads"}))[0] == "Real Checkpoint"


def test_highest_rated_most_liked_and_most_discussed_sort_by_their_counts(client, catalog):
    AIModel.objects.filter(name="Fan VAE").update(rating=0.9, like_count=7, comment_count=1)
    AIModel.objects.filter(name="Ink LoRA").update(rating=0.5, like_count=9, comment_count=12)
    assert names(client.get("/api/hub/models", {"sort": "rated"}))[:2] == ["Fan VAE", "Ink LoRA"]
    assert names(client.get("/api/hub/models", {"sort": "liked"}))[:2] == ["Ink LoRA", "Fan VAE"]
    assert names(client.get("/api/hub/models", {"sort": "discussed"}))[:2] == ["Ink LoRA", "Fan VAE"]
    page = client.get("/api/hub/models", {"sort": "rated", "limit": 1}).json()
    rest = client.get("/api/hub/models", {"sort": "rated", "cursor": page["next_cursor"]}).json()["items"]
    assert [m["name"] for m in rest][:1] == ["Ink LoRA"]


def test_nsfw_models_appear_only_when_asked_for(client, catalog, creator):
    assert "Spicy LoRA" in names(client.get("/api/hub/models", {"nsfw": "true"}))
    assert "Spicy LoRA" not in client.get("/models/").content.decode()
    client.force_login(creator)
    client.post("/preferences/nsfw", {"show": "1", "next": "/models/"})
    html = client.get("/models/").content.decode()
    assert "Spicy LoRA" in html and 'data-testid="level-badge">R<' in html  # shown, with its level
    assert "blurred" not in html  # in the viewer's levels: shown as it is


def test_drafts_are_never_listed(client, catalog, creator):
    client.force_login(creator)
    assert "Draft LoRA" not in names(client.get("/api/hub/models"))


def test_cursor_pagination_walks_every_model_once(client, creator):
    for i in range(7):
        make_model(creator, name=f"Model {i}")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        data = client.get("/api/hub/models", params).json()
        seen += [item["name"] for item in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(f"Model {i}" for i in range(7)) and len(seen) == 7


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"limit": "0"},
        {"limit": "1000"},
        {"limit": "x"},
        {"sort": "best"},
        {"type": "Spaceship"},
        {"period": "decade"},
    ],
)
def test_bad_parameters_are_a_400_with_a_reason_never_a_500(client, catalog, params):
    response = client.get("/api/hub/models", params)
    assert response.status_code == 400 and response.json()["detail"]


def test_the_page_shows_a_bad_parameter_as_a_message(client, catalog):
    response = client.get("/models/", {"sort": "best"})
    assert response.status_code == 200 and "Unknown sort" in response.content.decode()


def test_the_number_of_queries_does_not_grow_with_the_page_size(client, creator):
    for i in range(12):
        make_model(creator, name=f"Model {i}", tags=[f"t{i}", "shared"])

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/hub/models", {"limit": limit}).status_code == 200
        return len(queries)

    assert count(2) == count(12)


def test_browse_page_filters_live_in_the_url_and_load_more_links_the_next_page(client, creator):
    for i in range(30):
        make_model(creator, name=f"Model {i:02d}")
    html = client.get("/models/", {"type": "LORA"}).content.decode()
    assert "Model 29" in html and "Model 05" not in html
    assert "data-load-more" in html and "type=LORA" in html and "cursor=" in html
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", html).group(1)
    fragment = client.get(
        "/models/", {"type": "LORA", "fragment": "cards", "cursor": cursor}
    ).content.decode()
    assert "Model 05" in fragment and "Model 29" not in fragment and "<html" not in fragment


def test_tag_pages_list_the_models_with_that_tag(client, catalog):
    html = client.get("/tag/ink").content.decode()
    assert "Ink LoRA" in html and "Real Checkpoint" not in html and "tagged" in html


def test_empty_results_say_so(client, catalog):
    assert "No models match these filters" in client.get("/models/", {"tag": "nothing"}).content.decode()


def test_scripts_create_models_on_the_same_url_with_basic_auth_and_browsers_need_csrf(creator):
    import base64

    from django.test import Client

    from tests.factories import PASSWORD

    auth = "Basic " + base64.b64encode(f"{creator.username}:{PASSWORD}".encode()).decode()
    response = Client().post(
        "/api/hub/models",
        {"name": "Scripted", "type": "LORA"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 201 and response.json()["name"] == "Scripted"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(creator)
    response = browser.post(
        "/api/hub/models", {"name": "No token", "type": "LORA"}, content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def model_card_json(card) -> dict:
    """What the browse API must say of a model, built in Python from the card the pages show."""
    return {
        "id": card.id,
        "name": card.name,
        "slug": card.slug,
        "type": card.type,
        "nsfw": card.nsfw,
        "nsfw_level": card.nsfw_level,
        "creator": card.creator,
        "tags": card.tags,
        "base_models": sorted(card.base_models),
        "download_count": card.download_count,
        "thumbs_up_count": card.thumbs_up_count,
        "thumbs_down_count": card.thumbs_down_count,
        "rating": card.rating,
        "like_count": card.like_count,
        "comment_count": card.comment_count,
        "published_at": iso_z(card.published_at),
        "url": card.url,
    }


def test_the_api_items_built_by_the_database_equal_the_cards_the_pages_show(client, catalog):
    """The browse API's JSON comes out of the database; it must say exactly what the cards say."""
    from django.contrib.auth.models import AnonymousUser

    from models_app import selectors

    AIModel.objects.filter(name="Ink LoRA").update(rating=4.25, like_count=3, thumbs_up_count=2)
    whole_second = timezone.now().replace(microsecond=0) - timedelta(days=400)
    AIModel.objects.filter(name="Fan VAE").update(published_at=whole_second)  # no fraction stored
    query = selectors.BrowseQuery(levels=31, limit=100)
    cards, _ = selectors.browse_models(AnonymousUser(), query)
    items = client.get("/api/hub/models", {"nsfw": "true"}).json()["items"]
    assert items == [model_card_json(card) for card in cards]
    ink = next(item for item in items if item["name"] == "Ink LoRA")
    assert ink["tags"] == ["ink"] and ink["base_models"] == ["SD 1.5"] and ink["nsfw"] is False
    assert ink["rating"] == 4.25 and ink["creator"] == "alice"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ink["published_at"])
    assert next(item for item in items if item["name"] == "Spicy LoRA")["nsfw"] is True
    assert next(item for item in items if item["name"] == "Fan VAE")["published_at"].endswith(".000Z")


@pytest.mark.parametrize(
    "count, shown",
    [(0, "0"), (999, "999"), (1000, "1K"), (1234, "1.2K"), (45678, "46K"), (999_999, "1000K"),
     (1_234_567, "1.2M"), (3_000_000_000, "3B")],
)  # fmt: skip
def test_cards_show_counts_the_short_way(count, shown):
    from models_app.selectors import compact_number

    assert compact_number(count) == shown


def test_a_card_links_to_its_creator_and_shows_short_counts(client, catalog):
    from django.urls import reverse

    assert 'title="0 downloads">⬇ 0<' in client.get("/models/").content.decode()
    AIModel.objects.filter(name="Ink LoRA").update(download_count=12_345)  # a remembered card must change
    html = client.get("/models/").content.decode()
    assert f'href="{reverse("community:user_profile", args=["alice"])}"' in html
    assert "⬇ 12K" in html and 'title="12,345 downloads"' in html


def test_a_remembered_page_query_still_reads_fresh_rows_and_respects_the_viewer(client, catalog, creator):
    """The browse API keeps the compiled SQL of hot pages; the rows and the visibility stay right."""
    first = names(client.get("/api/hub/models", {"limit": 10}))
    make_model(creator, name="Brand New LoRA")
    assert names(client.get("/api/hub/models", {"limit": 10})) == ["Brand New LoRA", *first]
    owner = type(client)()
    owner.force_login(creator)
    assert "Draft LoRA" not in names(owner.get("/api/hub/models", {"limit": 10}))  # drafts: never listed
    AIModel.objects.filter(name="Brand New LoRA").update(nsfw_level=4)
    assert "Brand New LoRA" not in names(client.get("/api/hub/models", {"limit": 10}))
