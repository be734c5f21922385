"""Liberal in what the API accepts, exact in what it refuses: lists, booleans, sorts, pagination, junk."""

import datetime

import pytest
from django.utils import timezone

from models_app.models import AIModel

from .conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(creator, fan, run_on_commit):
    """A LoRA, a checkpoint and an SDXL embedding, published a day apart (oldest first)."""
    lora = publish(creator, run_on_commit, name="Tiny Watercolor", tags=["watercolor"])
    checkpoint = publish(
        fan, run_on_commit, name="Tiny Checkpoint", type="Checkpoint", allow_commercial_sell=True
    )
    embedding = publish(
        fan, run_on_commit, name="Tiny Embedding", type="TextualInversion", base_model="SDXL 1.0",
        allow_derivatives=False, allow_commercial_images=False, allow_commercial_rent=False,
    )  # fmt: skip
    now = timezone.now()
    for days, version in ((3, lora), (2, checkpoint), (1, embedding)):
        AIModel.objects.filter(id=version.model_id).update(published_at=now - datetime.timedelta(days=days))
    AIModel.objects.filter(id=checkpoint.model_id).update(download_count=50, rating=0.9)
    AIModel.objects.filter(id=embedding.model_id).update(download_count=5, rating=0.5)
    return lora.model_id, checkpoint.model_id, embedding.model_id


def names(client, query: str) -> list[str]:
    response = client.get(f"/api/v1/models{query}")
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def test_lists_are_accepted_repeated_comma_joined_and_in_any_case(client, three):
    expected = ["Tiny Checkpoint", "Tiny Watercolor"]
    for query in (
        "?types=LORA&types=Checkpoint",
        "?types=LORA,Checkpoint",
        "?types=lora,checkpoint",
        "?types[]=LORA&types[]=Checkpoint",
    ):
        assert sorted(names(client, query)) == expected, query
    assert names(client, "?types=LyCORIS") == []  # an alias of LoCon, not an error
    assert sorted(names(client, "?baseModels=SDXL 1.0,SD 1.5")) == [
        "Tiny Checkpoint",
        "Tiny Embedding",
        "Tiny Watercolor",
    ]
    assert names(client, "?baseModels=SDXL%201.0") == ["Tiny Embedding"]


def test_sorts_are_accepted_with_spaces_and_periods_in_any_case(client, three):
    assert names(client, "?sort=Most Downloaded") == ["Tiny Checkpoint", "Tiny Embedding", "Tiny Watercolor"]
    assert names(client, "?sort=Most+Downloaded") == names(client, "?sort=Most%20Downloaded")
    assert names(client, "?sort=Highest Rated")[0] == "Tiny Checkpoint"
    assert names(client, "?sort=Newest") == ["Tiny Embedding", "Tiny Checkpoint", "Tiny Watercolor"]
    assert names(client, "?sort=Oldest") == ["Tiny Watercolor", "Tiny Checkpoint", "Tiny Embedding"]
    assert names(client, "?sort=Newest&period=Day") == []  # published more than a day ago
    assert len(names(client, "?period=week")) == 3 and len(names(client, "?period=AllTime")) == 3


def test_booleans_accept_true_and_True_and_filter_by_licence(client, three):
    assert names(client, "?allowDerivatives=false") == ["Tiny Embedding"]
    assert names(client, "?allowDerivatives=False") == ["Tiny Embedding"]
    assert sorted(names(client, "?allowDerivatives=True")) == ["Tiny Checkpoint", "Tiny Watercolor"]
    assert names(client, "?allowCommercialUse=Sell") == ["Tiny Checkpoint"]
    assert names(client, "?allowCommercialUse=None") == ["Tiny Embedding"]
    assert sorted(names(client, "?allowCommercialUse=Sell,None")) == ["Tiny Checkpoint", "Tiny Embedding"]
    assert len(names(client, "?allowDifferentLicenses=true&allowNoCredit=True")) == 3


def test_filters_by_tag_username_ids_and_query(client, three):
    lora, checkpoint, _ = three
    assert names(client, "?tag=watercolor") == ["Tiny Watercolor"]
    assert sorted(names(client, "?username=bob")) == ["Tiny Checkpoint", "Tiny Embedding"]
    assert sorted(names(client, f"?ids={lora},{checkpoint}")) == ["Tiny Checkpoint", "Tiny Watercolor"]
    assert names(client, f"?ids={lora}&ids={checkpoint}&types=LORA") == ["Tiny Watercolor"]
    assert names(client, "?query=watercolor") == ["Tiny Watercolor"]
    assert names(client, "?query=watercolor&types=Checkpoint") == []


def test_page_pagination_sends_every_metadata_key(client, three):
    first = client.get("/api/v1/models?limit=2&page=1&sort=Oldest").json()
    assert [m["name"] for m in first["items"]] == ["Tiny Watercolor", "Tiny Checkpoint"]
    metadata = first["metadata"]
    assert {k: metadata[k] for k in ("totalItems", "currentPage", "pageSize", "totalPages", "prevPage")} == {
        "totalItems": 3, "currentPage": 1, "pageSize": 2, "totalPages": 2, "prevPage": None,
    }  # fmt: skip
    assert (
        metadata["nextPage"].startswith("http://testserver/api/v1/models?")
        and "page=2" in metadata["nextPage"]
    )
    second = client.get(metadata["nextPage"]).json()
    assert [m["name"] for m in second["items"]] == ["Tiny Embedding"]
    assert second["metadata"]["nextPage"] is None and "page=1" in second["metadata"]["prevPage"]
    assert second["metadata"]["currentPage"] == 2


def test_cursor_pagination_follows_next_cursor_to_the_end(client, three):
    seen, url = [], "/api/v1/models?limit=1&sort=Newest"
    pages = 0
    while url:
        data = client.get(url).json()
        pages += 1
        assert set(data["metadata"]) >= {
            "totalItems",
            "currentPage",
            "pageSize",
            "totalPages",
            "nextPage",
            "prevPage",
            "nextCursor",
        }
        assert data["metadata"]["currentPage"] == pages and data["metadata"]["totalPages"] == 3
        seen += [m["name"] for m in data["items"]]
        cursor = data["metadata"]["nextCursor"]
        assert (cursor is None) == (data["metadata"]["nextPage"] is None)
        url = f"/api/v1/models?limit=1&sort=Newest&cursor={cursor}" if cursor else None
    assert seen == ["Tiny Embedding", "Tiny Checkpoint", "Tiny Watercolor"]


@pytest.mark.parametrize(
    "query",
    [
        "?limit=-1",
        "?limit=0",
        "?limit=101",
        f"?limit={10**9}",
        "?limit=abc",
        "?page=0",
        "?page=-3",
        f"?page={10**12}",
        f"?ids={2**31}",
        "?ids=1,x",
        f"?ids={10**30}",
        "?cursor=garbage!!",
        "?cursor=WyJ4IiwyXQ",
        "?cursor=" + "A" * 500,
        "?types=Banana",
        "?sort=Most Bananas",
        "?period=Century",
        "?nsfw=maybe",
        "?primaryFileOnly=yes",
        "?allowCommercialUse=Everything",
        "?checkpointType=Blend",
        "?ids=" + ",".join(["1"] * 10_000),
    ],
)
def test_junk_parameters_are_400_json_never_500(client, three, query):
    response = client.get(f"/api/v1/models{query}")
    assert response.status_code == 400, query
    assert set(response.json()) == {"error"} and response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/abc",
        f"/api/v1/models/{2**31}",
        "/api/v1/models/-1",
        "/api/v1/model-versions/1.5",
        "/api/v1/images?limit=201",
        "/api/v1/images?nsfw=Spicy",
        "/api/v1/images?sort=Loudest",
        "/api/v1/images?cursor=abc",
        "/api/v1/images?browsingLevel=999",
        "/api/v1/images?modelId=x",
        "/api/v1/tags?limit=0",
        "/api/v1/tags?page=0",
        "/api/v1/creators?limit=201",
        "/api/v1/creators?page=x",
    ],
)
def test_junk_on_other_endpoints_is_400_json(client, three, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert response.json()["error"]


def test_unknown_parameters_are_ignored(client, three):
    assert (
        len(names(client, "?rating=5&supportsGeneration=true&earlyAccess=false&fromPlatform=true&foo=bar"))
        == 3
    )


def test_missing_things_are_404_with_civitais_messages(client, three):
    assert client.get("/api/v1/models/999999").json() == {"error": "No model with id 999999"}
    assert client.get("/api/v1/models/999999").status_code == 404
    assert client.get("/api/v1/model-versions/999999").json() == {"error": "Model not found"}
