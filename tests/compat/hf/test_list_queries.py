"""GET /api/models costs the same queries for 3 models as for 30, with `full=true`, `cardData` and
`expand` too, whatever the models' versions, files and example images
(docs/performance.md#the-images-list-and-the-hugging-face-list)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app.models import AIModel, FileType
from resources.models import Image

from .catalog import seed


def _copy(model: AIModel, i: int) -> AIModel:
    """Another published model like `model`: its versions, their files (the same bytes) and the
    served copies of its example images."""
    versions = [(v, list(v.files.all())) for v in model.versions.all()]
    tags = list(model.tags.all())
    model.pk = model.id = None
    model.name, model.slug = f"{model.name} {i}", f"{model.slug}-{i}"
    model.save()
    model.tags.set(tags)
    for version, files in versions:
        version.pk = version.id = None
        version.model = model
        version.save()
        for f in files:
            image = Image.objects.filter(source_file=f).first()
            f.pk = f.id = None
            f.version = version
            f.save()
            if image is not None:
                image.pk = image.id = None
                image.source_file = f
                image.save()
    return model


@pytest.fixture
def thirty_models(creator, fan, run_on_commit):
    catalog = seed(creator, fan, run_on_commit)
    assert catalog.image.type == FileType.IMAGE  # the main revision of the first has an example image
    for i in range(9):
        for model in (catalog.model, catalog.other, catalog.bobs):
            _copy(AIModel.objects.get(id=model.id), i)
    return catalog


@pytest.mark.parametrize(
    "params",
    [
        "",
        "&full=true",
        "&cardData=true",
        "&expand[]=sha&expand[]=siblings&expand[]=downloads",
        "&search=watercolor",
    ],
)
def test_a_list_of_30_models_costs_the_queries_of_a_list_of_3(client, thirty_models, params):
    def page(limit: int):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/models?limit={limit}{params}")
        assert response.status_code == 200
        return response.json(), len(captured)

    small, small_queries = page(3)
    items, queries = page(30)
    assert len(small) == 3 and len(items) == (20 if "search" in params else 30)
    assert queries == small_queries
    if "full" in params or "siblings" in params:
        # Every repo lists its files, and the copies of the first one its example image as well.
        names = [{s["rfilename"] for s in item["siblings"]} for item in items]
        assert all("README.md" in files for files in names)
        with_image = [
            item for item in items if "images/example.png" in {s["rfilename"] for s in item["siblings"]}
        ]
        copies = [item for item in items if item["id"].startswith("alice/tiny-watercolor")]
        assert len(with_image) == len(copies) >= 9
        assert all(item["sha"] and len(item["sha"]) == 40 for item in items)
    if "cardData" in params:
        assert all(item["cardData"]["tags"] for item in items)


def test_the_example_image_is_the_one_each_repo_serves(client, thirty_models):
    """The example images of a page are read in one query for all repos: each repo still lists its
    own, with its own bytes."""
    items = client.get("/api/models?limit=100&full=true").json()
    tiny = next(item for item in items if item["id"] == "alice/tiny-watercolor")
    info = client.get("/api/models/alice/tiny-watercolor").json()
    assert tiny["siblings"] == [{"rfilename": s["rfilename"]} for s in info["siblings"]]
    assert tiny["usedStorage"] == info["usedStorage"]
