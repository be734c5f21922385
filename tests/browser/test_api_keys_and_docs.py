"""A creator makes an API key for a script, copies it, uses it, revokes it; the API docs work offline."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from community.models import ApiKey
from models_app.models import AIModel
from tests.factories import PASSWORD, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_model_with_key(base_url: str, key: str, name: str) -> int:
    """What a script does: POST /api/hub/models with the key as a Bearer token. Returns the status."""
    request = urllib.request.Request(
        f"{base_url}/api/hub/models",
        data=json.dumps({"name": name, "type": "LORA"}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_create_copy_use_and_revoke_an_api_key(page, live_server):
    make_user("gale")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, "gale", PASSWORD)

    page.get_by_role("link", name="API keys").click()
    page.wait_for_url("**/settings/api-keys")
    page.get_by_text("You have no API keys yet.").wait_for()
    page.fill("input[name=name]", "my upload script")
    assert page.get_by_label("Read only").is_checked()  # the least access is offered first
    page.get_by_label("Read and write").check()  # this script uploads
    page.get_by_role("button", name="Create key").click()

    new_key = page.get_by_test_id("new-key")
    new_key.get_by_text("it will not be shown again").wait_for()
    copy = new_key.get_by_role("button", name="Copy the key")
    copy.click()
    expect(copy).to_have_text("Copied")
    key = page.evaluate("navigator.clipboard.readText()")
    assert key == page.get_by_test_id("new-key-value").inner_text() and key.startswith("hub_")

    assert create_model_with_key(live_server.url, key, "Made by a script") == 201
    assert AIModel.objects.get(name="Made by a script").owner.username == "gale"

    page.reload()  # the browser sends the POST again: no second key, and the key is not shown again
    page.get_by_text("no new key was made").wait_for()
    assert page.get_by_test_id("new-key").count() == 0 and key not in page.content()
    assert ApiKey.objects.count() == 1
    row = page.locator("tr", has_text="my upload script")
    assert "never" not in row.inner_text() and "Read and write" in row.inner_text()  # last used: just now
    row.get_by_role("button", name="Revoke my upload script").click()
    page.get_by_text("Revoked “my upload script”").wait_for()
    assert "revoked" in page.locator("tr", has_text="my upload script").inner_text()
    assert ApiKey.objects.get().revoked_at is not None

    assert create_model_with_key(live_server.url, key, "Too late") == 401
    assert not AIModel.objects.filter(name="Too late").exists()


def test_the_api_docs_show_the_hub_api_without_the_internet(page, live_server):
    hub = urlsplit(live_server.url).netloc
    elsewhere = []

    def only_the_hub(route):
        if urlsplit(route.request.url).netloc == hub:
            route.continue_()
        else:  # a CDN would be unreachable for browsers here: the page must not need one
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_hub)
    page.goto("/")
    page.get_by_role("link", name="API", exact=True).click()
    page.wait_for_url("**/api/docs/")
    operation = page.locator("#operations-uploads-start_upload")
    operation.wait_for()
    assert "/api/hub/uploads" in operation.inner_text()
    operation.locator(".opblock-summary").first.click()
    page.get_by_text("part_size").first.wait_for()  # the answer's fields, from the schema
    assert page.locator("#operations-models-browse_models").count() == 1
    assert elsewhere == []
