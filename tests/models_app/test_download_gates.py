"""Who may download, docs/downloads.md steps 1 and 5-7: rate limit, downloads disabled by the creator,
login required, early access. Tools get JSON; a person in a browser gets the login page or a page
that says why."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from community.models import ApiKey
from models_app import demo, downloads
from models_app.models import AIModel, EarlyAccessGrant, ModelVersion, UsageControl
from models_app.tasks import process_file
from tests.models_app.test_downloads import download_url, publish_model

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def version(creator, run_on_commit):
    return publish_model(creator, run_on_commit)


def early(version, days=3):
    ModelVersion.objects.filter(id=version.id).update(
        early_access_ends_at=timezone.now() + timedelta(days=days)
    )
    version.refresh_from_db()
    return version


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Early access (check 7)


def test_early_access_is_403_json_with_the_deadline_for_tools(client, fan, version):
    early(version)
    for caller in (client, logged_in(fan)):
        response = caller.get(download_url(version))
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "Early Access"
        assert body["deadline"] == version.early_access_ends_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{version.early_access_ends_at.microsecond // 1000:03d}Z"
        )
        assert "Early Access" in body["message"]
        assert response["Cache-Control"] == "no-store, max-age=0"


def test_early_access_downloads_for_the_creator_moderators_and_grant_holders(
    creator, fan, moderator, version
):
    early(version)
    assert logged_in(creator).get(download_url(version)).status_code == 307
    assert logged_in(moderator).get(download_url(version)).status_code == 307
    EarlyAccessGrant.objects.create(version=version, user=fan, reason="supporter")
    assert logged_in(fan).get(download_url(version)).status_code == 307


def test_a_grant_works_with_an_api_key_as_bearer_and_token(fan, version):
    early(version)
    EarlyAccessGrant.objects.create(version=version, user=fan)
    _, raw = ApiKey.create(user=fan, name="tool")
    assert Client().get(download_url(version), HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 307
    assert Client().get(download_url(version, f"?token={raw}")).status_code == 307


def test_early_access_that_has_ended_downloads_for_everyone(client, version):
    early(version, days=-1)
    assert client.get(download_url(version)).status_code == 307


def test_a_grant_for_another_version_does_not_open_this_one(creator, fan, run_on_commit, version):
    other = publish_model(creator, run_on_commit, name="Other model")
    early(version)
    EarlyAccessGrant.objects.create(version=other, user=fan)
    assert logged_in(fan).get(download_url(version)).status_code == 403


def test_an_anonymous_browser_is_sent_to_the_login_page_and_back(client, fan, version):
    early(version)
    response = client.get(download_url(version, "?type=Model"), **BROWSER)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query)["next"] == [f"/api/download/models/{version.id}?type=Model"]


def test_a_logged_in_browser_without_a_grant_gets_a_page_naming_the_deadline(fan, version):
    early(version)
    response = logged_in(fan).get(download_url(version), **BROWSER)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Early access" in page
    assert version.early_access_ends_at.strftime("%Y-%m-%dT%H:%M") in page


# --- Login required (check 6)


def test_login_required_is_401_for_anonymous_tools_and_fine_with_a_key_or_session(client, fan, version):
    AIModel.objects.filter(id=version.model_id).update(require_login=True)
    response = client.get(download_url(version))
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unauthorized",
        "message": "The creator of this asset requires you to be logged in to download it",
    }
    _, raw = ApiKey.create(user=fan, name="tool")
    assert Client().get(download_url(version, f"?token={raw}")).status_code == 307
    assert logged_in(fan).get(download_url(version)).status_code == 307


def test_login_required_sends_an_anonymous_browser_to_log_in(client, version):
    AIModel.objects.filter(id=version.model_id).update(require_login=True)
    response = client.get(download_url(version), **BROWSER)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Downloads disabled (check 5)


@pytest.mark.parametrize("usage", [UsageControl.GENERATION, UsageControl.EXTERNAL_GENERATION])
def test_a_version_with_downloads_disabled_is_401_for_everyone_but_its_creator(
    client, fan, creator, version, usage
):
    ModelVersion.objects.filter(id=version.id).update(usage_control=usage)
    for caller in (client, logged_in(fan)):
        response = caller.get(download_url(version))
        assert response.status_code == 401
        assert "disabled downloads" in response.json()["message"]
    assert logged_in(creator).get(download_url(version)).status_code == 307


def test_the_order_of_checks_follows_design_8_8(creator, fan, version):
    """Archived (410) before disabled (401) before login (401) before early access (403)."""
    model = version.model
    version.usage_control = UsageControl.GENERATION
    model.require_login = True
    version.early_access_ends_at = timezone.now() + timedelta(days=1)
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(downloads.DownloadRefused) as refused:
        downloads.check_download_allowed(AnonymousUser(), version)
    assert refused.value.status == 401 and "disabled" in refused.value.body["message"]
    version.usage_control = UsageControl.DOWNLOAD
    with pytest.raises(downloads.DownloadRefused) as refused:
        downloads.check_download_allowed(AnonymousUser(), version)
    assert refused.value.status == 401 and "logged in" in refused.value.body["message"]
    with pytest.raises(downloads.DownloadRefused) as refused:
        downloads.check_download_allowed(fan, version)
    assert refused.value.status == 403 and refused.value.body["error"] == "Early Access"
    model.status = "archived"
    with pytest.raises(downloads.DownloadRefused) as refused:
        downloads.check_download_allowed(fan, version)
    assert refused.value.status == 410


# --- Rate limit (check 1)


def test_too_many_downloads_in_a_minute_get_429_and_other_visitors_are_not_affected(settings, fan, version):
    settings.DOWNLOAD_RATE_LIMIT = 5
    anonymous = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [anonymous.get(download_url(version)).status_code for _ in range(7)]
    assert statuses == [307] * 5 + [429] * 2
    response = anonymous.get(download_url(version))
    assert response.json()["error"] == "Too many requests"
    assert response["Retry-After"] == "60"
    assert Client(REMOTE_ADDR="203.0.113.10").get(download_url(version)).status_code == 307
    assert logged_in(fan).get(download_url(version), REMOTE_ADDR="203.0.113.9").status_code == 307


def test_a_rate_limit_of_zero_turns_it_off(settings, client, version):
    settings.DOWNLOAD_RATE_LIMIT = 0
    assert all(client.get(download_url(version)).status_code == 307 for _ in range(70))


def test_a_refused_draft_in_a_browser_is_a_404_page_not_json(client, creator):
    from tests.factories import make_model

    draft = make_model(creator, publish=False).versions.get()
    response = client.get(download_url(draft), **BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "File not found" in response.content.decode()


# --- Creators set the gates


def test_a_creator_sets_early_access_and_it_starts_when_the_version_is_published(creator, fan):
    from models_app import services

    client = logged_in(creator)
    response = client.post(
        "/models/new",
        {"name": "Gated LoRA", "type": "LORA", "require_login": "on", "allow_no_credit": "on"},
    )
    model = AIModel.objects.get(name="Gated LoRA")
    assert response.status_code == 302 and model.require_login
    client.post(
        f"/models/{model.id}/versions/new",
        {"name": "v1.0", "base_model": "SD 1.5", "early_access_days": "7", "usage_control": "Download"},
    )
    version = model.versions.get()
    assert version.early_access_days == 7 and version.early_access_ends_at is None
    model_file = services.add_file(
        version=version, name="gated.safetensors", content=__import__("io").BytesIO(demo.tiny_lora())
    )
    process_file.apply(args=[model_file.id])
    services.publish_version(version=version, by=creator)
    version.refresh_from_db()
    assert version.early_access_ends_at == version.published_at + timedelta(days=7)
    page = logged_in(fan).get(model.get_absolute_url()).content.decode()
    assert 'data-testid="early-access"' in page
    assert "Early access until" in page
    anonymous_page = Client().get(model.get_absolute_url()).content.decode()
    assert "to download" in anonymous_page and "log in" in anonymous_page


def test_early_access_days_out_of_range_are_a_form_error(creator):
    client = logged_in(creator)
    client.post("/models/new", {"name": "Gated LoRA", "type": "LORA"})
    model = AIModel.objects.get(name="Gated LoRA")
    response = client.post(
        f"/models/{model.id}/versions/new",
        {"name": "v1.0", "base_model": "SD 1.5", "early_access_days": "31", "usage_control": "Download"},
    )
    assert response.status_code == 200
    assert "less than or equal to 30" in response.content.decode()
    assert not model.versions.exists()
