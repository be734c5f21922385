"""Options that lead nowhere are not offered: no on-site generator exists, and nobody can become a
"supporter" until billing lands. Versions already carrying such an option stay readable."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from models_app.models import ModelVersion, UsageControl
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_version_form_offers_no_generation_only_option(creator):
    model = make_model(creator)
    html = as_user(creator).get(f"/models/{model.id}/versions/new").content.decode()
    assert 'name="usage_control"' in html and 'value="Download"' in html
    assert "On-site generation only" not in html and 'value="Generation"' not in html
    assert "Internal generation only" not in html
    assert "supporters" not in html


def test_the_form_and_the_api_refuse_generation_only(creator):
    model = make_model(creator)
    client = as_user(creator)
    response = client.post(
        f"/models/{model.id}/versions/new",
        {"name": "v2", "base_model": "SD 1.5", "early_access_days": 0, "usage_control": "Generation"},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(
        f"/api/hub/models/{model.id}/versions",
        {"name": "v2", "base_model": "SD 1.5", "usage_control": "Generation"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "usage_control" in response.json()
    assert list(model.versions.values_list("name", flat=True)) == ["v1.0"]
    response = client.post(
        f"/api/hub/models/{model.id}/versions",
        {"name": "v2", "base_model": "SD 1.5", "usage_control": "ExternalGeneration"},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_a_version_that_already_has_generation_only_stays_readable(client, creator):
    model = make_model(creator)
    ModelVersion.objects.filter(model=model).update(usage_control=UsageControl.GENERATION)
    html = client.get(model.get_absolute_url()).content.decode()
    assert "The creator has disabled downloads of this version (on-site generation only)" in html
    files = as_user(creator).get(f"/api/hub/versions/{model.versions.get().id}/files")
    assert files.status_code == 200


def test_early_access_text_promises_no_supporters(client, creator, fan):
    model = make_model(creator)
    version = model.versions.get()
    ModelVersion.objects.filter(id=version.id).update(early_access_ends_at=timezone.now() + timedelta(days=3))
    page = client.get(model.get_absolute_url()).content.decode()
    assert "Early access until" in page and "supporter" not in page.lower()
    refused = as_user(fan).get(f"/api/download/models/{version.id}", HTTP_ACCEPT="text/html")
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "early access until" in text and "upporter" not in text
