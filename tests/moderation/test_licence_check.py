"""The licence check (docs/moderation.md#licence-check): a creator's permissions against the licence of
the version's base model, shown on the model page and refused on publish."""

import pytest
from django.core.exceptions import ValidationError

from models_app import services
from models_app.models import AIModel, BaseModel, PublishStatus
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_the_shipped_table_records_flux_dev_as_non_commercial():
    flux = BaseModel.objects.get(name="Flux.1 D")
    assert flux.license_name == "FLUX.1 [dev] Non-Commercial License"
    assert (flux.allows_commercial_images, flux.allows_commercial_rent, flux.allows_commercial_sell) == (
        True, False, False
    )  # fmt: skip


def test_publishing_a_fine_tune_offered_for_paid_generation_on_a_non_commercial_base_is_refused(creator):
    with pytest.raises(ValidationError) as refused:
        make_model(creator, base_model="Flux.1 D", allow_commercial_rent=True)
    assert "allows running it on paid generation services, but Flux.1 D's licence" in str(refused.value)
    assert "FLUX.1 [dev] Non-Commercial License" in str(refused.value)
    assert AIModel.objects.get().status == PublishStatus.DRAFT


def test_the_same_model_publishes_once_its_permissions_agree(creator):
    model = make_model(creator, base_model="Flux.1 D", allow_commercial_rent=False, allow_commercial_sell=False)
    assert model.status == PublishStatus.PUBLISHED


def test_bases_without_recorded_terms_are_not_checked(creator):
    model = make_model(creator, base_model="Pony", allow_commercial_rent=True, allow_commercial_sell=True)
    assert model.status == PublishStatus.PUBLISHED


def test_the_model_page_shows_a_contradiction_that_appeared_after_publishing(client, creator):
    model = make_model(creator, base_model="Flux.1 D", allow_commercial_rent=False)
    assert 'data-testid="licence-check"' not in client.get(model.get_absolute_url()).content.decode()
    services.update_model(model=model, by=creator, allow_commercial_sell=True)
    page = client.get(model.get_absolute_url()).content.decode()
    assert 'data-testid="licence-check"' in page
    assert "This model allows selling it or merges of it, but Flux.1 D&#x27;s licence" in page
