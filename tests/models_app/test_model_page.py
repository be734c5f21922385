"""The model page: versions as tabs, trigger words to copy, stats, creator card; version compare."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage

from community import lineage
from community.models import LineageRelation, Review
from models_app import demo, services
from models_app.models import EarlyAccessGrant, FileStatus, ModelFile, ModelVersion
from tests.conftest import ClosingClient as Client
from tests.factories import add_example_image, make_model, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(creator, run_on_commit):
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


def _png(colour) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def _page_queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_model_page_query_count_does_not_grow_with_versions_images_files_and_reviews(
    creator, fan, run_on_commit
):
    """Each version brings files, an example image, reviews (one the viewer's), and a parent in the
    lineage: the page shows them all, with as many queries for 6 versions as for 2, for a visitor,
    a signed-in fan and the creator (docs/performance.md#the-model-page)."""

    with run_on_commit():
        model = make_model(creator, name="Many Versions")
    first = model.versions.get()
    reviewers = [make_user(f"reviewer{i}") for i in range(3)]
    colours = iter(["red", "green", "blue", "yellow", "purple", "orange", "white"])

    def grow(version):
        # In early access for members; the fan holds a grant for every other version.
        ModelVersion.objects.filter(id=version.id).update(
            early_access_ends_at=timezone.now() + timedelta(days=3), early_access_members=True
        )
        if version.id % 2:
            EarlyAccessGrant.objects.create(version=version, user=fan)
        add_example_image(
            version, run_on_commit, name=f"example-{version.id}.png", content=_png(next(colours))
        )
        for i, user in enumerate([*reviewers, fan]):
            Review.objects.create(
                user=user, version=version, recommended=bool(i % 2), text_html=f"<p>r{i}</p>"
            )

    def add_version(n):
        with run_on_commit():
            version = services.create_version(
                model=model, name=f"v{n}.0", base_model="SD 1.5", trained_words=[]
            )
            services.add_file(version=version, name=f"v{n}.safetensors", content=io.BytesIO(demo.tiny_lora()))
            services.add_file(version=version, name=f"v{n}.yaml", content=io.BytesIO(b"a: 1\n"))
        services.publish_version(version=version, by=creator)
        # Every later version is a fine-tune of the first: the lineage has the same depth for 2 or 6.
        lineage.declare_parent(
            user=creator, child=version, parent_id=first.id, relation=LineageRelation.FINETUNE_OF
        )
        grow(version)

    grow(first)
    add_version(2)
    url = model.get_absolute_url()
    visitors = {"anonymous": Client(), "fan": Client(), "creator": Client()}
    visitors["fan"].force_login(fan)
    visitors["creator"].force_login(creator)
    few = {name: _page_queries(c, url)[0] for name, c in visitors.items()}
    for n in range(3, 7):
        add_version(n)
    assert model.versions.count() == 6
    for name, c in visitors.items():
        count, html = _page_queries(c, url)
        assert count == few[name], name
        # Everything of every version is on the page.
        assert html.count('role="tab"') == 6
        assert html.count('data-testid="example-image"') == 6
        assert html.count("<p>r3</p>") == 6  # the fan's review under each version
        assert html.count('data-testid="lineage-node-') == 2 * 5  # the first's 5 children, each one's parent
        for version in model.versions.all():
            assert f'data-testid="reviews-{version.id}"' in html
        assert html.count('data-testid="early-access-panel"') == 6
        if name == "fan":
            assert html.count('data-testid="my-review"') == 6
            granted = EarlyAccessGrant.objects.filter(user=fan).count()
            assert 0 < granted < 6 and html.count('data-testid="early-access-open"') == granted
        if name == "creator":
            assert html.count('data-testid="early-access-open"') == 6


def test_a_file_row_shows_the_file_as_it_is_now(client, creator, run_on_commit):
    """Visitors' file rows are rendered once per content (models_app/templatetags/file_rows.py): a
    renamed file, a changed status or another language shows at once, never the remembered row."""
    with run_on_commit():
        model = make_model(creator, name="Row Memo", filename="first-name.safetensors")
    url = model.get_absolute_url()
    model_file = ModelFile.objects.get(version__model=model)
    html = client.get(url).content.decode()
    assert "first-name.safetensors" in html and f'data-testid="download-{model_file.id}"' in html
    ModelFile.objects.filter(id=model_file.id).update(name="second-name.safetensors")
    html = client.get(url).content.decode()
    assert "second-name.safetensors" in html and "first-name.safetensors" not in html
    ModelFile.objects.filter(id=model_file.id).update(status=FileStatus.PROCESSING)
    html = client.get(url).content.decode()
    assert 'data-status="processing"' in html and f'data-testid="download-{model_file.id}"' not in html
    english_row = html[html.index(f'<tr data-file-id="{model_file.id}"') :]
    assert ">Processing</span>" in english_row and "Copier le SHA256" not in english_row
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    french_row = french[french.index(f'<tr data-file-id="{model_file.id}"') :]
    assert ">Traitement en cours</span>" in french_row and "Copier le SHA256 de second-name" in french_row
