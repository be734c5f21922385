"""The CivitAI models list, model detail and by-hash at catalog scale (docs/performance.md#the-civitai-models-list-and-by-hash).

A page costs a fixed number of queries whatever the number of models, versions, files and images
on it; on PostgreSQL the items are built by the database (compat/civitai/items_sql.py), and they
must be the items shapes.model_json builds (the portable path, the only one on SQLite). The rows
are written directly, as seed_catalog writes its catalog: the pipeline would take minutes here.
"""

import datetime
import hashlib
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compat.civitai import items_sql
from compat.civitai.shapes import Viewer
from models_app.models import (
    AIModel,
    BaseModel,
    ContentBlob,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    ScanStatus,
)
from resources.models import Image, ImageStatus, ImageVersion

pytestmark = pytest.mark.django_db

_counter = iter(range(1, 10**9))


def blob(size: int = 4096, *, autov3: bool = True) -> ContentBlob:
    n = next(_counter)
    sha = hashlib.sha256(f"blob {n}".encode()).hexdigest().upper()
    return ContentBlob.objects.create(
        sha256=sha,
        size=size + n,
        storage_key=ContentBlob.key_for(sha),
        autov1=sha[-8:],
        autov3=hashlib.sha256(f"tensors {n}".encode()).hexdigest().upper() if autov3 else None,
        crc32=sha[8:16],
        blake3=hashlib.sha256(f"blake {n}".encode()).hexdigest().upper(),
    )


def add_file(version, name, **fields) -> ModelFile:
    fields = {
        "type": FileType.MODEL,
        "format": FileFormat.SAFETENSOR,
        "status": FileStatus.READY,
        "scan_status": ScanStatus.CLEAN,
        "scanned_at": timezone.now(),
        **fields,
    }
    return ModelFile.objects.create(
        version=version, name=name, blob=fields.pop("blob", None) or blob(), **fields
    )


def add_image(version, owner, name, **fields) -> Image:
    fields = {"width": 64, "height": 96, "mime_type": "image/png", **fields}
    image = Image.objects.create(owner=owner, name=name, blob=blob(), status=ImageStatus.READY, **fields)
    ImageVersion.objects.create(image=image, version=version, role=ImageVersion.Role.EXAMPLE)
    return image


def catalog(owner, models: int, *, versions: int = 3, files: int = 3, images: int = 2) -> list[AIModel]:
    """Published models, each with versions that have files (a primary, a pruned fp16 copy, a VAE)
    and example images."""
    base = BaseModel.objects.get(name="SD 1.5")
    made = []
    for _ in range(models):
        n = next(_counter)
        model = AIModel.objects.create(
            owner=owner,
            name=f"Model {n}",
            slug=f"model-{n}",
            type=ModelType.LORA,
            status=PublishStatus.PUBLISHED,
            published_at=timezone.now(),
            description_html="<p>Soft washes.</p>",
            tag_names=["style"],
            thumbs_up_count=33,
            thumbs_down_count=7,
            rating=33 / 40,  # 4.125 stars: Python's rounding, not PostgreSQL's
        )
        for v in range(versions):
            version = ModelVersion.objects.create(
                model=model,
                name=f"v{v}",
                base_model=base,
                status=PublishStatus.PUBLISHED,
                published_at=timezone.now(),
                trained_words=["fox", f"word{v}"],
            )
            specs = [
                {"is_primary": True, "fp": "fp16", "size_variant": "full"},
                {"fp": "fp16", "size_variant": "pruned"},
                {"type": FileType.VAE, "fp": "fp32"},
                {"type": FileType.CONFIG, "format": FileFormat.OTHER},
            ]
            for f, spec in enumerate(specs[:files]):
                add_file(version, f"model-{n}-v{v}-{f}.safetensors", **spec)
            for i in range(images):
                add_image(version, owner, f"ex-{n}-{v}-{i}.png", meta={"prompt": "a fox", "steps": 20})
        made.append(model)
    return made


def count_queries(client, url: str) -> tuple[int, dict]:
    cache.clear()  # totals are remembered for a minute; count them every time here
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.json()


def test_the_list_costs_the_same_queries_for_2_and_for_20_models(client, creator):
    catalog(creator, 2)
    few, small = count_queries(client, "/api/v1/models?limit=100")
    catalog(creator, 18)
    many, large = count_queries(client, "/api/v1/models?limit=100")
    assert len(small["items"]) == 2 and len(large["items"]) == 20
    for item in large["items"]:
        assert len(item["modelVersions"]) == 3
        assert all(len(v["files"]) == 3 and len(v["images"]) == 2 for v in item["modelVersions"])
    assert few == many


def test_a_model_costs_the_same_queries_with_1_and_with_many_versions(client, creator):
    [one] = catalog(creator, 1, versions=1)
    [many] = catalog(creator, 1, versions=8, files=4, images=3)
    queries_one, data_one = count_queries(client, f"/api/v1/models/{one.id}")
    queries_many, data_many = count_queries(client, f"/api/v1/models/{many.id}")
    assert len(data_one["modelVersions"]) == 1 and len(data_many["modelVersions"]) == 8
    assert [v["index"] for v in data_many["modelVersions"]] == list(range(8))
    assert queries_one == queries_many


def both_paths(client, monkeypatch, url: str, **headers) -> tuple[dict, dict]:
    """The answer as served (PostgreSQL: built by the database) and as shapes builds it."""
    served = client.get(url, headers=headers)
    assert served.status_code == 200, served.content[:300]
    with monkeypatch.context() as patched:
        patched.setattr(items_sql, "available", lambda user: False)
        portable = client.get(url, headers=headers)
    return served.json(), portable.json()


@pytest.fixture
def varied(creator, fan):
    """Models in every state the items can be in: files pick_file must tell apart, a flagged file,
    an archived model and version, early access, mature levels, odd names, video and ComfyUI images."""
    [plain, choosy, archived, early, odd] = catalog(fan, 5, versions=2, files=4, images=2)
    # Two files of one kind: the download URL of the loser names it by id.
    version = choosy.versions.first()
    add_file(version, "twin.safetensors", fp="fp16", size_variant="pruned")
    add_file(version, "unscanned.ckpt", format=FileFormat.PICKLETENSOR, scan_status=ScanStatus.PENDING)
    add_file(
        version, "quarantined.ckpt", format=FileFormat.PICKLETENSOR, status=FileStatus.QUARANTINED,
        scan_status=ScanStatus.QUARANTINED,
    )  # fmt: skip
    add_file(version, "pending.bin", format=FileFormat.OTHER, status=FileStatus.PENDING)
    add_file(version, "legacy", format=FileFormat.OTHER, blob=blob(autov3=False), metadata={
        "virus_scan": {"result": "Danger", "message": "EICAR"}})  # fmt: skip
    AIModel.objects.filter(id=archived.id).update(status=PublishStatus.ARCHIVED)
    ModelVersion.objects.filter(id=early.versions.last().id).update(
        early_access_ends_at=timezone.now() + datetime.timedelta(days=3), early_access_days=5
    )
    ModelVersion.objects.filter(id=plain.versions.first().id).update(status=PublishStatus.ARCHIVED)
    ModelVersion.objects.filter(id=plain.versions.last().id).update(nsfw_level=4, description_html="<p>R</p>")
    AIModel.objects.filter(id=early.id).update(
        nsfw_level=8, allow_commercial_images=True, allow_commercial_sell=True, type="Detection"
    )
    # Names clean_filename changes, a ComfyUI graph and a video: shapes builds those items.
    add_file(odd.versions.first(), "dir/ünïcode name?.safetensors", type=FileType.OTHER)
    add_image(odd.versions.last(), fan, "graph.png", meta=None, workflow='{"nodes": []}')
    add_image(choosy.versions.last(), fan, "clip.webm", mime_type="video/webm", meta=None, blurhash="")
    add_image(early.versions.first(), fan, "spicy.png", nsfw_level=16)
    # A version with no file to offer is left out, but still counts in the others' index.
    ModelVersion.objects.create(
        model=plain, name="empty", base_model=BaseModel.objects.get(name="SDXL 1.0"),
        status=PublishStatus.PUBLISHED, published_at=timezone.now(),
    )  # fmt: skip
    ModelFile.objects.filter(version__model=odd, is_primary=True).update(is_primary=False)
    return [plain, choosy, archived, early, odd]


@pytest.mark.parametrize(
    "query",
    [
        "limit=100&nsfw=true",
        "limit=100&browsingLevel=1",
        "limit=3&nsfw=true&sort=Newest&primaryFileOnly=true",
        "limit=100&browsingLevel=12",
    ],
)
def test_database_items_are_the_items_shapes_builds(client, monkeypatch, varied, query):
    served, portable = both_paths(client, monkeypatch, f"/api/v1/models?{query}")
    assert served["items"] and served == portable


def test_model_detail_from_the_database_is_the_one_shapes_builds(client, monkeypatch, varied, fan):
    for model in varied:
        served, portable = both_paths(client, monkeypatch, f"/api/v1/models/{model.id}")
        assert served == portable
    assert served["modelVersions"][0]["files"]  # the odd model still lists its files


def test_versions_from_the_database_are_the_ones_shapes_builds(client, monkeypatch, varied):
    def both(url):
        served = client.get(url)
        with monkeypatch.context() as patched:
            patched.setattr(items_sql, "available", lambda user: False)
            portable = client.get(url)
        assert (served.status_code, served.json()) == (portable.status_code, portable.json()), url
        return served.status_code

    answers = []
    for version in ModelVersion.objects.filter(model__in=varied).prefetch_related("files__blob"):
        answers.append(both(f"/api/v1/model-versions/{version.id}"))
        for file in version.files.all():
            answers.append(both(f"/api/v1/model-versions/by-hash/{file.blob.sha256}"))
    # Published versions with files, and the ones left out: the archived, the one with no file.
    assert answers.count(200) > 10 and 404 in answers
    shas = sorted(
        {f.blob.sha256 for f in ModelFile.objects.filter(version__model__in=varied).select_related("blob")}
    )
    served = post(client, "/api/v1/model-versions/by-hash", shas[:100])
    with monkeypatch.context() as patched:
        patched.setattr(items_sql, "available", lambda user: False)
        portable = post(client, "/api/v1/model-versions/by-hash", shas[:100])
    assert len(served.json()) > 5 and served.json() == portable.json()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database builds items on PostgreSQL only")
def test_on_postgresql_the_database_builds_all_but_the_odd_items(varied):
    viewer = Viewer(user=AnonymousUser(), origin="http://testserver")
    texts = items_sql.model_items(
        AnonymousUser(), [m.id for m in varied], viewer, primary_file_only=False, now=timezone.now()
    )
    plain, choosy, archived, early, odd = varied
    assert texts[odd.id] is None  # a file name clean_filename changes, a ComfyUI graph
    assert all(json.loads(texts[m.id])["id"] == m.id for m in (plain, choosy, archived, early))


def test_the_creator_sees_their_flagged_files_on_either_path(client, monkeypatch, varied, fan):
    client.force_login(fan)
    served, portable = both_paths(client, monkeypatch, f"/api/v1/models/{varied[1].id}")
    names = [f["name"] for f in served["modelVersions"][-1]["files"]] + [
        f["name"] for f in served["modelVersions"][0]["files"]
    ]
    assert "quarantined.ckpt" in names and served == portable
    client.logout()
    served, portable = both_paths(client, monkeypatch, f"/api/v1/models/{varied[1].id}")
    assert "quarantined.ckpt" not in json.dumps(served) and served == portable


def post(client, path: str, hashes: list[str]):
    return client.post(path, json.dumps(hashes), content_type="application/json")


def test_by_hash_batches_answer_thousands_of_hashes(client, creator):
    models = catalog(creator, 4, versions=2, files=3, images=0)
    files = list(ModelFile.objects.filter(version__model__in=models).select_related("blob", "version"))
    known = {f.blob.sha256: f for f in files}
    unknown = [hashlib.sha256(f"nothing {i}".encode()).hexdigest().upper() for i in range(2500)]
    asked = [h.lower() for h in known] + unknown  # more than one look-up chunk of 1,000
    response = post(client, "/api/v1/model-versions/by-hash/ids", asked)
    assert response.status_code == 200
    assert sorted((i["hash"], i["modelVersionId"], i["modelId"]) for i in response.json()) == sorted(
        (sha, f.version_id, f.version.model_id) for sha, f in known.items()
    )
    response = post(client, "/api/v1/model-versions/by-hash", list(known)[:100])
    versions = {f.version_id for f in known.values()}
    assert sorted(item["id"] for item in response.json()) == sorted(versions)
    for item in response.json():
        assert {f["hashes"]["SHA256"] for f in item["files"]} == {
            sha for sha, f in known.items() if f.version_id == item["id"]
        }
