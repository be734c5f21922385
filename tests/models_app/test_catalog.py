"""Creating, publishing and describing models through the services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from models_app import services
from models_app.models import AIModel, BaseModel, ModelType, PublishStatus, Tag
from models_app.text import clean_filename
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_every_model_type_and_launch_base_model_is_available():
    assert set(ModelType.values) == {
        "Checkpoint", "TextualInversion", "Hypernetwork", "AestheticGradient", "LORA", "LoCon", "DoRA",
        "Controlnet", "Poses", "Upscaler", "MotionModule", "VAE", "Wildcards", "Workflows", "Detection", "Other",
    }  # fmt: skip
    names = set(BaseModel.objects.values_list("name", flat=True))
    assert {"SD 1.4", "SD 1.5", "SD 2.0", "SD 2.1", "SDXL 1.0", "SDXL Turbo", "Pony", "Illustrious"} <= names
    assert {"SD 3", "SD 3.5", "Flux.1 S", "Flux.1 D", "Other"} <= names


def test_operators_can_add_a_base_model_and_versions_use_it(creator):
    BaseModel.objects.create(name="Chroma")
    model = services.create_model(owner=creator, name="Chroma LoRA", type=ModelType.LORA)
    version = services.create_version(model=model, name="v1", base_model="Chroma")
    assert version.base_model.name == "Chroma"


def test_new_model_is_a_draft_with_a_slug_and_clean_tags(creator):
    model = services.create_model(
        owner=creator, name="Tiny Watercolor!", type=ModelType.LORA, tags=["Style", " style ", "Water  Color"]
    )
    assert model.status == PublishStatus.DRAFT
    assert model.slug == "tiny-watercolor"
    assert sorted(model.tags.values_list("name", flat=True)) == ["style", "water color"]
    assert model.get_absolute_url() == f"/models/{model.id}/tiny-watercolor"


def test_same_name_gets_a_distinct_slug_for_the_same_creator(creator):
    first = services.create_model(owner=creator, name="Same", type=ModelType.LORA)
    second = services.create_model(owner=creator, name="Same", type=ModelType.LORA)
    assert (first.slug, second.slug) == ("same", "same-2")


def test_unknown_type_is_refused_with_the_choices_named(creator):
    with pytest.raises(ValidationError, match="choose one of"):
        services.create_model(owner=creator, name="X", type="Spaceship")
    assert not AIModel.objects.exists()


def test_too_many_tags_are_refused_and_nothing_is_saved(creator):
    with pytest.raises(ValidationError, match="at most 20 tags"):
        services.create_model(owner=creator, name="X", type=ModelType.LORA, tags=[f"t{i}" for i in range(25)])
    assert not AIModel.objects.exists()
    assert not Tag.objects.exists()


def test_unknown_base_model_is_refused(creator):
    model = services.create_model(owner=creator, name="X", type=ModelType.LORA)
    with pytest.raises(ValidationError, match="Unknown base model"):
        services.create_version(model=model, name="v1", base_model="SD 9")


def test_trigger_words_are_trimmed_and_deduplicated(creator):
    model = services.create_model(owner=creator, name="X", type=ModelType.LORA)
    version = services.create_version(
        model=model, name="v1", base_model="SD 1.5", trained_words=[" tiny ", "tiny", "", "style"]
    )
    assert version.trained_words == ["tiny", "style"]


def test_publishing_needs_a_file(creator):
    model = services.create_model(owner=creator, name="X", type=ModelType.LORA)
    version = services.create_version(model=model, name="v1", base_model="SD 1.5")
    with pytest.raises(ValidationError, match="at least one file"):
        services.publish_version(version=version, by=creator)
    model.refresh_from_db()
    assert model.status == PublishStatus.DRAFT


def test_only_the_creator_can_publish(creator, fan):
    model = make_model(creator, publish=False)
    with pytest.raises(PermissionDenied, match="Only the creator"):
        services.publish_version(version=model.versions.get(), by=fan)


def test_publishing_a_version_publishes_its_model(creator):
    model = make_model(creator)
    model.refresh_from_db()
    assert model.status == PublishStatus.PUBLISHED and model.published_at is not None
    assert model.versions.get().status == PublishStatus.PUBLISHED


def test_commercial_use_is_listed_the_way_civitai_lists_it(creator):
    model = services.create_model(
        owner=creator,
        name="X",
        type=ModelType.LORA,
        allow_commercial_images=True,
        allow_commercial_rent=False,
        allow_commercial_sell=True,
    )
    assert model.commercial_use == ["Image", "Sell"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\models\\lora.safetensors", "lora.safetensors"),
        ("a\x00b\r\n.safetensors", "a_b__.safetensors"),
        ("evil\u202egnp.exe", "evil_gnp.exe"),
        ("..", "file"),
        ("x" * 300 + ".safetensors", "x" * 188 + ".safetensors"),
    ],
)
def test_uploaded_filenames_become_safe_labels(raw, clean):
    assert clean_filename(raw) == clean
