"""API key scopes: a read-only key downloads and looks up; every write it attempts is a 403 that says
why, whichever endpoint. Keys made before scopes existed keep full access (docs/security.md)."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from community import services
from community.auth import user_for_api_key
from community.models import ApiKey, Collection
from models_app.models import AIModel
from tests.factories import make_model

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys"
READ_ONLY = "This API key is read-only"


@pytest.fixture
def draft(creator, run_on_commit):
    with run_on_commit():
        model = make_model(creator, name="Secret", publish=False)
    return model.versions.get()


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def test_the_page_offers_read_only_first_and_lists_each_keys_access(client, creator):
    client.force_login(creator)
    html = client.get(PAGE).content.decode()
    assert re.search(r'<input type="radio" name="scope" value="read"[^>]*checked', html)
    assert 'value="write"' in html and "Read and write" in html

    token = re.search(r'name="form_token" value="([^"]+)"', html)[1]
    response = client.post(PAGE, {"name": "downloader", "scope": "read", "form_token": token})
    assert "Access: Read only." in response.content.decode()
    services.create_api_key(user=creator, name="uploader", scope="write")

    rows = re.findall(r"<tr data-key-id.*?</tr>", client.get(PAGE).content.decode(), re.S)
    by_name = {re.search(r"<td>([^<]+)</td>", row)[1]: row for row in rows}
    assert 'data-scope="read">Read only<' in by_name["downloader"]
    assert 'data-scope="write">Read and write<' in by_name["uploader"]
    assert ApiKey.objects.get(name="downloader").scope == "read"


def test_an_unknown_scope_is_refused_and_no_key_is_made(client, creator):
    client.force_login(creator)
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(PAGE).content.decode())[1]
    response = client.post(PAGE, {"name": "x", "scope": "admin", "form_token": token})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with pytest.raises(Exception, match="either “read” or “write”"):
        services.create_api_key(user=creator, name="x", scope="admin")
    assert not ApiKey.objects.exists()


def test_a_read_only_key_downloads_and_looks_up_but_every_write_is_refused_with_a_reason(creator, draft):
    _, raw = services.create_api_key(user=creator, name="reader", scope="read")
    tool = Client()
    sha256 = draft.files.get().blob.sha256
    assert tool.get(f"/api/download/models/{draft.id}", headers=bearer(raw)).status_code == 307
    assert tool.get(f"/api/hub/versions/{draft.id}/files", headers=bearer(raw)).status_code == 200
    # CivitAI's by-hash look-up is a POST that only reads: allowed, and the draft is found as its owner.
    found = tool.post(
        "/api/v1/model-versions/by-hash",
        json.dumps([sha256]),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert found.status_code == 200 and [v["id"] for v in found.json()] == [draft.id]

    writes = [
        ("post", "/api/hub/models", {"name": "x", "type": "LORA"}),
        ("patch", f"/api/hub/models/{draft.model_id}", {"name": "renamed"}),
        ("post", f"/api/hub/versions/{draft.id}/publish", {}),
        ("delete", f"/api/hub/versions/{draft.id}", None),
        ("post", "/api/hub/collections", {"name": "mine"}),
    ]
    for method, url, body in writes:
        response = getattr(tool, method)(
            url,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=bearer(raw),
        )
        assert response.status_code == 403, (method, url, response.content)
        assert READ_ONLY in response.json()["detail"] and "/settings/api-keys" in response.json()["detail"]
    # ?token= is the same key, refused the same way.
    response = tool.post(
        f"/api/hub/models?token={raw}", {"name": "x", "type": "LORA"}, content_type="application/json"
    )
    assert response.status_code == 403 and READ_ONLY in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.model.name == "Secret" and draft.status != "published"
    assert AIModel.objects.count() == 1 and not Collection.objects.filter(name="mine").exists()


def test_a_write_key_may_change_things(creator, draft):
    _, raw = services.create_api_key(user=creator, name="uploader", scope="write")
    response = Client().patch(
        f"/api/hub/models/{draft.model_id}",
        json.dumps({"name": "Renamed"}),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 200, response.content
    draft.model.refresh_from_db()
    assert draft.model.name == "Renamed"


def test_a_read_only_key_is_refused_on_a_plain_view_write_too(creator, rf):
    """The resolver that plain (non-API) views use refuses the same way: 403 with the sentence."""
    from django.core.exceptions import PermissionDenied
    from django.urls import resolve

    from community.auth import resolve_api_key

    _, raw = services.create_api_key(user=creator, name="reader", scope="read")
    request = rf.post("/models/new", headers=bearer(raw))
    request.resolver_match = resolve("/models/new")
    with pytest.raises(PermissionDenied, match=READ_ONLY):
        resolve_api_key(request)
    get = rf.get("/models/new", headers=bearer(raw))
    get.resolver_match = resolve("/models/new")
    assert resolve_api_key(get) == (True, creator)


def test_the_command_makes_read_or_write_keys_write_by_default(creator):
    out = io.StringIO()
    call_command("create_api_key", creator.username, "--scope", "read", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert "read access" in out.getvalue() and user_for_api_key(raw) == creator
    assert ApiKey.objects.get(key_hash__isnull=False, name="created by manage.py").scope == "read"
    call_command("create_api_key", creator.username, "--name", "full", stdout=io.StringIO())
    assert ApiKey.objects.get(name="full").scope == "write"


@pytest.mark.django_db(transaction=True)
def test_keys_made_before_scopes_keep_full_access(django_user_model):
    """The migration gives existing keys "write", so the tools already using them don't break."""
    executor = MigrationExecutor(connection)
    before = [("community", "0010_profile_language")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    user = old_apps.get_model("auth", "User").objects.create(username="old")
    old_apps.get_model("community", "ApiKey").objects.create(
        user=user, name="old", key_hash="0" * 64, prefix="hub_old"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert ApiKey.objects.get(name="old").scope == "write"
