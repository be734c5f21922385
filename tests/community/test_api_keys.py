"""The API keys settings page: a new key is shown once, the list never shows it, revoking is at once."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from community import services
from community.auth import user_for_api_key
from community.models import ApiKey, hash_api_key
from tests.factories import make_model

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys"


def shown_key(html: str) -> str:
    match = re.search(r'data-testid="new-key-value">(hub_[A-Za-z0-9_-]+)<', html)
    assert match, "the new key is not on the page"
    return match.group(1)


def submit(client, name: str, scope: str = "write"):
    """Fill in and send the form, as a browser does: the form carries its one-time token."""
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(PAGE).content.decode())[1]
    return client.post(PAGE, {"name": name, "scope": scope, "form_token": token})


def create_on_the_page(client, name: str = "ComfyUI", scope: str = "write") -> str:
    response = submit(client, name, scope)
    assert response.status_code == 200
    return shown_key(response.content.decode())


@pytest.fixture
def draft(creator, run_on_commit):
    """A draft only its creator may download or find by hash; its file went through the pipeline."""
    with run_on_commit():
        model = make_model(creator, name="Secret", publish=False)
    return model.versions.get()


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(PAGE, {"name": "x"}).status_code == 302
    assert not ApiKey.objects.exists()


def test_a_new_key_is_shown_once_and_the_list_never_shows_it(client, creator):
    client.force_login(creator)
    response = submit(client, "ComfyUI on my desktop")
    html = response.content.decode()
    raw = shown_key(html)
    assert "it will not be shown again" in html
    assert f'data-copy="{raw}"' in html  # the copy button
    assert "no-store" in response["Cache-Control"]  # not kept for the back button
    key = ApiKey.objects.get(user=creator)
    assert key.name == "ComfyUI on my desktop" and key.key_hash == hash_api_key(raw)
    assert raw not in str(dict(client.session)) and not response.has_header("Location")

    listing = client.get(PAGE).content.decode()
    assert raw not in listing and raw[12:] not in listing
    assert "ComfyUI on my desktop" in listing and f"{key.prefix}…" in listing
    assert "never" in listing and "active" in listing  # last used, status


def test_sending_the_form_again_makes_no_second_key(client, creator):
    client.force_login(creator)
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(PAGE).content.decode())[1]
    assert shown_key(
        client.post(PAGE, {"name": "once", "scope": "read", "form_token": token}).content.decode()
    )
    again = client.post(
        PAGE, {"name": "once", "scope": "read", "form_token": token}, follow=True
    )  # a page reload
    html = again.content.decode()
    assert "no new key was made" in html and 'data-testid="new-key"' not in html
    assert client.post(PAGE, {"name": "no token"}).status_code == 302
    assert ApiKey.objects.filter(user=creator).count() == 1


def test_the_list_shows_when_a_key_was_last_used_and_revoked_keys(client, creator, draft):
    client.force_login(creator)
    raw = create_on_the_page(client, "used")
    create_on_the_page(client, "old")
    Client().get(f"/api/download/models/{draft.id}", headers={"Authorization": f"Bearer {raw}"})
    services.revoke_api_key(key=ApiKey.objects.get(name="old"))
    rows = re.findall(r"<tr data-key-id.*?</tr>", client.get(PAGE).content.decode(), re.S)
    assert len(rows) == 2
    used, old = rows  # active keys first
    assert ">used<" in used and "never" not in used and "Revoke" in used
    # The date in the page's own format (docs/i18n.md): "revoked Dec. 3, 2026, 2:26 p.m." in English.
    assert ">old<" in old and re.search(r"revoked \w+\.? \d+, 20\d\d", old) and "Revoke" not in old


def test_a_key_needs_a_name_of_at_most_100_characters(client, creator):
    client.force_login(creator)
    for name in ("", "   ", "x" * 101):
        response = submit(client, name)
        assert response.status_code == 200
        assert 'data-testid="new-key"' not in response.content.decode()
    assert "Ensure this value has at most 100 characters" in response.content.decode()
    assert not ApiKey.objects.exists()
    assert ApiKey.objects.get(key_hash=hash_api_key(create_on_the_page(client, "y" * 100))).name == "y" * 100


def test_active_keys_are_capped_with_a_message_saying_what_to_do(client, creator, settings):
    for n in range(services.MAX_ACTIVE_API_KEYS):
        services.create_api_key(user=creator, name=f"tool {n}")
    client.force_login(creator)
    response = submit(client, "one more")
    html = response.content.decode()
    assert 'data-testid="new-key"' not in html
    assert f"You already have {services.MAX_ACTIVE_API_KEYS} active API keys" in html
    assert "revoke one you no longer use" in html
    assert ApiKey.objects.filter(user=creator).count() == services.MAX_ACTIVE_API_KEYS

    client.post(f"{PAGE}/{ApiKey.objects.filter(user=creator).first().id}/revoke")
    assert create_on_the_page(client, "one more").startswith("hub_")  # revoked keys don't count


def test_revoking_a_key_refuses_it_at_once_for_downloads_by_hash_and_the_hub_api(client, creator, draft):
    client.force_login(creator)
    raw = create_on_the_page(client, "script")
    bearer = {"Authorization": f"Bearer {raw}"}
    tool = Client()  # a script: no session, only the key
    sha256 = draft.files.get().blob.sha256
    download = f"/api/download/models/{draft.id}"
    by_hash = f"/api/v1/model-versions/by-hash/{sha256}"
    files = f"/api/hub/versions/{draft.id}/files"
    assert tool.get(download, headers=bearer).status_code == 307
    assert tool.get(by_hash, headers=bearer).json()["id"] == draft.id
    assert tool.get(files, headers=bearer).status_code == 200
    assert ApiKey.objects.get().last_used_at is not None

    key = ApiKey.objects.get()
    response = client.post(f"{PAGE}/{key.id}/revoke", follow=True)
    assert "Revoked “script”" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None

    response = tool.get(download, headers=bearer)
    assert response.status_code == 401 and response.json() == {"error": "Unauthorized"}
    assert tool.get(f"{download}?token={raw}").status_code == 401
    assert (
        tool.get(by_hash, headers=bearer).status_code == 404
    )  # a bad key there is anonymous: a draft is hidden
    assert tool.get(files, headers=bearer).status_code == 401
    response = tool.post(
        "/api/hub/models", {"name": "x", "type": "LORA"}, content_type="application/json", headers=bearer
    )
    assert response.status_code == 401 and response.json() == {"detail": "Unauthorized"}


def test_another_user_cannot_revoke_your_key(client, creator, fan):
    key, raw = services.create_api_key(user=creator, name="mine")
    client.force_login(fan)
    assert client.post(f"{PAGE}/{key.id}/revoke").status_code == 404
    assert client.post(f"{PAGE}/{10**20}/revoke").status_code == 404
    assert "mine" not in client.get(PAGE).content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None and user_for_api_key(raw) == creator


def test_revoking_needs_a_post_with_the_csrf_token(creator):
    key, raw = services.create_api_key(user=creator, name="mine")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(creator)
    assert browser.get(f"{PAGE}/{key.id}/revoke").status_code == 405
    assert browser.post(f"{PAGE}/{key.id}/revoke").status_code == 403
    assert user_for_api_key(raw) == creator

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(PAGE).content.decode())[1]
    assert browser.post(f"{PAGE}/{key.id}/revoke", {"csrfmiddlewaretoken": token}).status_code == 302
    assert user_for_api_key(raw) is None


def test_revoking_twice_keeps_the_first_date(creator):
    key, _ = services.create_api_key(user=creator, name="mine")
    first = services.revoke_api_key(key=key).revoked_at
    assert services.revoke_api_key(key=ApiKey.objects.get(id=key.id)).revoked_at == first


def test_the_user_menu_and_your_own_profile_link_to_the_page(client, creator, fan):
    client.force_login(creator)
    assert f'href="{PAGE}"' in client.get("/").content.decode()
    assert "Manage your API keys" in client.get(f"/user/{creator.username}").content.decode()
    assert "Manage your API keys" not in client.get(f"/user/{fan.username}").content.decode()


def test_create_api_key_command_prints_a_working_key_on_its_last_line(creator):
    out = io.StringIO()
    call_command("create_api_key", creator.username, "--name", "ci", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert user_for_api_key(raw) == creator
    assert ApiKey.objects.get(user=creator).name == "ci"
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_key", "nobody", stdout=io.StringIO())
