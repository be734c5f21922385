"""`manage.py seed_catalog`: a large synthetic catalog for benchmarks, here at a small size."""

import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q

from models_app.models import (
    AIModel,
    ContentBlob,
    FileFormat,
    FileStatus,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    ScanStatus,
)
from models_app.text import render_markdown

from ..factories import ensure_base_models

pytestmark = pytest.mark.django_db

MODELS = 200


def seed(**options) -> str:
    ensure_base_models()
    out = io.StringIO()
    call_command("seed_catalog", models=MODELS, batch=70, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def catalog():
    return seed()


def is_hex(value: str, length: int) -> bool:
    return bool(re.fullmatch(f"[0-9A-F]{{{length}}}", value or ""))


def test_the_catalog_has_about_three_versions_per_model_and_two_files_per_version(catalog):
    assert AIModel.objects.count() == MODELS
    creators = get_user_model().objects.filter(username__regex=r"^creator\d{5}$")
    assert creators.count() == MODELS // 20
    assert not any(user.has_usable_password() for user in creators)
    versions, files = ModelVersion.objects.count(), ModelFile.objects.count()
    assert 2.5 <= versions / MODELS <= 3.5
    assert 1.6 <= files / versions <= 2.4
    assert ContentBlob.objects.count() == files
    per_model = AIModel.objects.annotate(n=Count("versions")).values_list("n", flat=True)
    assert set(per_model) <= {1, 2, 3, 4, 5}
    assert "Seeded 200 models" in catalog and "No file bytes were stored" in catalog


def test_the_mix_of_types_statuses_tags_and_nsfw_looks_like_a_real_hub(catalog):
    types = Counter(AIModel.objects.values_list("type", flat=True))
    assert types.most_common(1)[0][0] == ModelType.LORA
    assert types[ModelType.LORA] + types[ModelType.CHECKPOINT] > MODELS / 2
    assert set(types) <= set(ModelType.values)
    published = AIModel.objects.filter(status=PublishStatus.PUBLISHED).count()
    assert 0.88 * MODELS <= published <= MODELS
    assert 0.03 * MODELS <= AIModel.objects.filter(nsfw_level=4).count() <= 0.2 * MODELS
    tags_per_model = AIModel.objects.annotate(n=Count("tags")).values_list("n", flat=True)
    assert min(tags_per_model) >= 1 and max(tags_per_model) <= 6  # up to 5, plus "nsfw"
    downloads = sorted(AIModel.objects.values_list("download_count", flat=True))
    assert downloads[-1] > 10 * downloads[len(downloads) // 2]  # skewed: a few models get most downloads
    if hasattr(AIModel, "thumbs_up_count"):  # reactions follow downloads
        for model in AIModel.objects.all():
            assert model.thumbs_up_count <= model.download_count
            assert 0 <= model.rating <= 1


def test_names_and_descriptions_read_like_words_and_slugs_are_unique_per_owner(catalog):
    for name, slug, description in AIModel.objects.values_list("name", "slug", "description"):
        assert re.fullmatch(r"[A-Z0-9][\w\- ]+ [\w\- ]+", name), name
        assert re.fullmatch(r"[a-z0-9-]+", slug), slug
        assert description.count(".") >= 2
    pairs = list(AIModel.objects.values_list("owner_id", "slug"))
    assert len(pairs) == len(set(pairs))


def test_seeded_models_and_versions_carry_their_rendered_descriptions(catalog):
    for row in [*AIModel.objects.values("description", "description_html")[:50],
                *ModelVersion.objects.values("description", "description_html")[:150]]:  # fmt: skip
        assert row["description_html"] == render_markdown(row["description"])
    assert not AIModel.objects.filter(description_html="").exists()  # every model has a description


def test_every_published_model_has_a_published_version_with_a_primary_ready_file(catalog):
    for model in AIModel.objects.filter(status=PublishStatus.PUBLISHED):
        assert model.published_at is not None
        primaries = ModelFile.objects.filter(
            version__model=model,
            version__status=PublishStatus.PUBLISHED,
            is_primary=True,
            status=FileStatus.READY,
        )
        assert primaries.exists(), model.name
    assert not ModelFile.objects.exclude(status=FileStatus.READY).exists()
    assert not ModelFile.objects.exclude(scan_status=ScanStatus.CLEAN).exists()
    assert not ModelFile.objects.filter(blob=None).exists()
    assert ModelVersion.objects.filter(status=PublishStatus.PUBLISHED, published_at=None).count() == 0
    one_primary = ModelVersion.objects.annotate(n=Count("files", filter=Q(files__is_primary=True)))
    assert set(one_primary.values_list("n", flat=True)) == {1}


def test_file_sizes_are_plausible_for_the_model_type(catalog):
    mb, gb = 1024**2, 1024**3
    lora = ModelFile.objects.filter(version__model__type=ModelType.LORA, is_primary=True)
    assert lora.exists()
    assert all(10 * mb <= size <= 200 * mb for size in lora.values_list("size", flat=True))
    checkpoint = ModelFile.objects.filter(version__model__type=ModelType.CHECKPOINT, is_primary=True)
    assert all(2 * gb <= size <= 7 * gb for size in checkpoint.values_list("size", flat=True))
    primary = ModelFile.objects.filter(is_primary=True, format=FileFormat.SAFETENSOR).first()
    assert (primary.fp, primary.size_variant, primary.name.endswith(".safetensors")) == (
        "fp16",
        "pruned",
        True,
    )


def test_hashes_are_well_formed_uppercase_hex_and_unique(catalog):
    blobs = list(ContentBlob.objects.values("sha256", "autov1", "autov3", "crc32", "blake3", "storage_key"))
    for blob in blobs:
        assert is_hex(blob["sha256"], 64)
        assert is_hex(blob["autov1"], 8)
        assert is_hex(blob["crc32"], 8)
        assert is_hex(blob["blake3"], 64)
        assert blob["autov3"] is None or is_hex(blob["autov3"], 64)
        assert blob["storage_key"] == ContentBlob.key_for(blob["sha256"])
    assert len({b["sha256"] for b in blobs}) == len(blobs)
    assert len({b["blake3"] for b in blobs}) == len(blobs)
    safetensors = ModelFile.objects.filter(format=FileFormat.SAFETENSOR)
    assert safetensors.exists()
    assert not safetensors.filter(blob__autov3=None).exists()
    assert not ModelFile.objects.exclude(format=FileFormat.SAFETENSOR).exclude(blob__autov3=None).exists()


def test_a_second_run_refuses_with_a_clear_message(catalog):
    with pytest.raises(CommandError, match="already exists.*--force"):
        seed()
    assert AIModel.objects.count() == MODELS


def test_a_forced_second_run_appends_new_creators_and_models_without_collisions(catalog):
    seed(force=True)
    assert AIModel.objects.count() == 2 * MODELS
    assert get_user_model().objects.filter(username="creator00019").exists()
    sha = list(ContentBlob.objects.values_list("sha256", flat=True))
    assert len(sha) == len(set(sha)) == ModelFile.objects.count()


def test_the_same_seed_gives_the_same_catalog():
    seed(seed=7)
    first = list(AIModel.objects.order_by("id").values_list("name", "type", "download_count"))
    hashes = set(ContentBlob.objects.values_list("sha256", flat=True))
    ModelFile.objects.all().delete()
    ContentBlob.objects.all().delete()
    AIModel.objects.all().delete()
    get_user_model().objects.filter(username__startswith="creator").delete()
    seed(seed=7)
    assert list(AIModel.objects.order_by("id").values_list("name", "type", "download_count")) == first
    assert set(ContentBlob.objects.values_list("sha256", flat=True)) == hashes
