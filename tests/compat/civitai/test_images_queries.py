"""/api/v1/images costs the same queries for a page of 3 images as for 30, whatever the images carry
(generation settings, posts of a version's examples, links to several versions), and its items
still say all of that (docs/performance.md#the-images-list-and-the-hugging-face-list)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app.levels import NsfwLevel
from resources.models import Image, ImageStatus, ImageVersion, Post
from tests.factories import add_example_image, make_user

from .conftest import INFOTEXT, png, publish


@pytest.fixture
def thirty_images(creator, run_on_commit):
    """Three published versions, each with 9 example images in its post (the first processed by the
    pipeline, the others sharing its bytes), and 3 community images made with two versions each."""
    versions = [publish(creator, run_on_commit, name=f"Style {i}", tags=["style"]) for i in range(3)]
    first = add_example_image(versions[0], run_on_commit, name="first.png", content=png(parameters=INFOTEXT))
    fan = make_user("painter")
    for i, version in enumerate(versions):
        post = Post.objects.create(owner=creator, version=version, title=f"Examples {i}")
        for j in range(9 if i else 8):
            image = Image.objects.create(
                owner=creator,
                post=post,
                blob=first.blob,
                name=f"example-{i}-{j}.png",
                width=512,
                height=768,
                mime_type="image/png",
                nsfw_level=NsfwLevel.PG,
                meta={"prompt": f"a fox {i} {j}", "steps": 20 + j},
                status=ImageStatus.READY,
            )
            ImageVersion.objects.create(image=image, version=version, role=ImageVersion.Role.EXAMPLE)
        made_with = Image.objects.create(
            owner=fan,
            blob=first.blob,
            name=f"made-with-{i}.png",
            mime_type="image/png",
            meta={"prompt": f"made with {i}"},
            status=ImageStatus.READY,
        )
        for linked in (version, versions[(i + 1) % 3]):
            ImageVersion.objects.create(image=made_with, version=linked, role=ImageVersion.Role.USED)
    assert Image.objects.filter(status=ImageStatus.READY).count() == 30
    return versions


@pytest.mark.parametrize("params", ["", "&withMeta=true", "&withMeta=true&sort=Oldest", "&page=1"])
def test_a_page_of_30_images_costs_the_queries_of_a_page_of_3(client, thirty_images, params):
    def page(limit: int):
        cache.clear()  # totals are remembered for a minute; count them every time here
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/images?limit={limit}{params}")
        assert response.status_code == 200
        return response.json()["items"], len(captured)

    small, small_queries = page(3)
    items, queries = page(30)
    assert len(small) == 3 and len(items) == 30
    assert queries == small_queries
    # What the page has to load for that: each image's versions, its post and its owner.
    version_ids = {v.id for v in thirty_images}
    made_with = [item for item in items if item["username"] == "painter"]
    assert len(made_with) == 3 and all(len(item["modelVersionIds"]) == 2 for item in made_with)
    assert all(set(item["modelVersionIds"]) <= version_ids for item in items)
    assert all(item["baseModel"] == "SD 1.5" and item["modelId"] for item in items)
    assert sum(1 for item in items if item["postId"] is not None) == 27
    if "withMeta" in params:
        assert all(item["meta"]["prompt"] for item in items)
    else:
        assert all(item["meta"] is None for item in items)


def test_the_level_filter_keeps_the_same_images(client, thirty_images):
    """The list's level test (a bit test, docs/performance.md) shows what the image pages show: an
    example of an R version is R, whatever the image's own level."""
    version = thirty_images[1]
    version.nsfw_level = NsfwLevel.R
    version.save(update_fields=["nsfw_level"])
    shown = client.get("/api/v1/images?limit=100").json()["items"]
    assert len(shown) == 21  # the 9 examples of the R version are left out
    assert all(item["browsingLevel"] == 1 for item in shown)
    mature = client.get("/api/v1/images?limit=100&browsingLevel=4").json()["items"]
    assert len(mature) == 9 and all(item["nsfwLevel"] == "Mature" for item in mature)
    assert len(client.get("/api/v1/images?limit=100&browsingLevel=5").json()["items"]) == 30
