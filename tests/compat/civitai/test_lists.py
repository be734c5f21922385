"""Tags, creators and enums; and lists cost a fixed number of queries whatever their size."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app import demo
from models_app.models import BaseModel, FileType

from .conftest import add_file, png, publish

pytestmark = pytest.mark.django_db


def test_tags_list_model_counts_with_links_and_a_page_envelope(client, creator, fan, run_on_commit):
    publish(creator, run_on_commit, name="A", tags=["style", "anime"])
    publish(fan, run_on_commit, name="B", tags=["style"])
    publish(fan, run_on_commit, name="C", tags=["unused"], publish=False)
    data = client.get("/api/v1/tags?limit=1").json()
    assert data["items"] == [
        {"name": "style", "modelCount": 2, "link": "http://testserver/api/v1/models?tag=style"}
    ]
    assert data["metadata"] == {
        "totalItems": 2, "currentPage": 1, "pageSize": 1, "totalPages": 2,
        "nextPage": "http://testserver/api/v1/tags?limit=1&page=2", "prevPage": None,
    }  # fmt: skip
    assert client.get(data["metadata"]["nextPage"]).json()["items"][0]["name"] == "anime"
    assert [t["name"] for t in client.get("/api/v1/tags?query=ANI").json()["items"]] == ["anime"]
    assert client.get(data["items"][0]["link"]).json()["metadata"]["totalItems"] == 2


def test_creators_list_people_with_published_models(client, creator, fan, moderator, run_on_commit):
    publish(creator, run_on_commit, name="A")
    publish(creator, run_on_commit, name="B")
    publish(fan, run_on_commit, name="C", publish=False)
    data = client.get("/api/v1/creators").json()
    assert data["items"] == [
        {
            "username": "alice",
            "modelCount": 2,
            "link": "http://testserver/api/v1/models?username=alice",
            "image": None,
        }
    ]
    assert data["metadata"]["totalItems"] == 1 and data["metadata"]["nextPage"] is None
    assert client.get("/api/v1/creators?query=zz").json()["items"] == []


def test_enums_list_the_values_filters_take(client, db):
    data = client.get("/api/v1/enums").json()
    assert "LORA" in data["ModelType"] and "Detection" not in data["ModelType"]
    assert "Model" in data["ModelFileType"] and "Standard" in data["BaseModelType"]
    assert data["BaseModel"] == list(BaseModel.objects.values_list("name", flat=True))
    assert set(data["ActiveBaseModel"]) <= set(data["BaseModel"])


@pytest.mark.parametrize(
    "url", ["/api/v1/models?limit={n}", "/api/v1/models?limit={n}&page=1", "/api/v1/images?limit={n}"]
)
def test_a_page_costs_the_same_queries_whatever_its_size(client, creator, run_on_commit, url):
    for i in range(6):
        version = publish(creator, run_on_commit, name=f"Model {i}", tags=["style"])
        add_file(
            version, run_on_commit, name=f"vae{i}.safetensors", content=demo.tiny_vae(), type=FileType.VAE
        )
        add_file(
            version,
            run_on_commit,
            name=f"ex{i}.png",
            content=png(color=(i * 40, 10, 10)),
            type=FileType.IMAGE,
        )

    def queries(n: int) -> int:
        cache.clear()  # totals are remembered for a minute; count them every time here
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url.format(n=n))
        assert response.status_code == 200 and len(response.json()["items"]) == n
        return len(captured)

    assert queries(1) == queries(3) == queries(6)


def test_totals_and_tag_counts_are_remembered_for_a_minute(client, creator, run_on_commit):
    """Counting a large catalog for every page costs more than the page: totals and the tag list
    are kept for selectors.LIST_CACHE_SECONDS, so they may lag that much behind."""
    publish(creator, run_on_commit, name="Ink One", tags=["ink"])
    first = client.get("/api/v1/tags").json()
    assert first["items"] == [
        {"name": "ink", "modelCount": 1, "link": "http://testserver/api/v1/models?tag=ink"}
    ]
    assert client.get("/api/v1/models").json()["metadata"]["totalItems"] == 1
    publish(creator, run_on_commit, name="Ink Two", tags=["ink"])
    assert client.get("/api/v1/tags").json() == first  # remembered
    assert client.get("/api/v1/models").json()["metadata"]["totalItems"] == 1
    assert len(client.get("/api/v1/models").json()["items"]) == 2  # the page itself is never stale
    cache.clear()  # a minute later
    assert client.get("/api/v1/tags").json()["items"][0]["modelCount"] == 2
    assert client.get("/api/v1/models").json()["metadata"]["totalItems"] == 2
