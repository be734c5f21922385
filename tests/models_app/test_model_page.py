"""The model page: versions as tabs, trigger words to copy, stats, creator card; version compare."""

import pytest

from models_app import demo, services
from tests.factories import make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(creator, run_on_commit):
    import io

    with run_on_commit():
        model = make_model(creator, name="Evolving LoRA", content=demo.tiny_lora())
        v2 = services.create_version(
            model=model, name="v2.0", base_model="SDXL 1.0", trained_words=["newword"]
        )
        services.add_file(version=v2, name="evolving-v2.safetensors", content=io.BytesIO(demo.tiny_vae()))
        services.publish_version(version=v2, by=creator)
    return model


def test_each_version_is_a_tab_with_its_trigger_words_and_a_copy_button(client, two_versions):
    html = client.get(two_versions.get_absolute_url()).content.decode()
    assert html.count('role="tab"') == 2 and 'role="tablist"' in html
    assert 'data-copy="newword"' in html and 'data-copy="tiny"' in html
    assert "Compare versions" in html and "downloads" in html
    assert "More models by alice" in html


def test_compare_shows_what_changed_between_two_versions(client, two_versions):
    v1, v2 = sorted(two_versions.versions.all(), key=lambda v: v.created_at)
    html = client.get(f"/models/{two_versions.id}/compare", {"a": v1.id, "b": v2.id}).content.decode()
    assert "SD 1.5" in html and "SDXL 1.0" in html
    assert "newword" in html and "evolving-v2.safetensors" in html
    assert 'class="changed"' in html
    assert "ss_network_module" in html  # training metadata of v1's LoRA


def test_compare_without_parameters_picks_the_two_newest_and_junk_is_not_an_error(client, two_versions):
    assert client.get(f"/models/{two_versions.id}/compare").status_code == 200
    assert client.get(f"/models/{two_versions.id}/compare", {"a": "x", "b": "999999"}).status_code == 200


def test_compare_of_a_single_version_model_says_there_is_nothing_to_compare(client, creator):
    model = make_model(creator)
    response = client.get(f"/models/{model.id}/compare", follow=True)
    assert "nothing to compare" in response.content.decode()
