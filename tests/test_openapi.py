"""The OpenAPI schema of the hub's own API (/api/schema/) and its docs page (/api/docs/).

The schema is checked the way a client generator would rely on it: it validates, it lists every
/api/hub/ URL and nothing else, and real answers of every documented operation match it exactly
(no missing field, no undocumented one, the right types and enums)."""

import io
import json
import re
import urllib.request

import jsonschema
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from community.models import ApiKey
from models_app import demo
from models_app.models import ModelFile
from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return json.loads(out.getvalue())


def test_the_schema_validates_with_no_warnings(tmp_path):
    # --fail-on-warn raises on any warning or error of the generator (an undocumented body, an
    # unresolvable type, an enum name clash); --validate checks it against the OpenAPI 3 spec.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["openapi"].startswith("3.")


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + str(pattern.pattern)


def test_the_schema_covers_every_hub_api_url_and_nothing_else(schema):
    hub_routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        for route in _routes(get_resolver().url_patterns)
        if route.startswith("/api/hub/")
    }
    assert set(schema["paths"]) == hub_routes
    assert "/api/hub/models" in hub_routes and "/api/hub/uploads/{file_id}/complete" in hub_routes


def test_the_schema_says_how_to_authenticate(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKeyBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiKeyBearer"]["description"],
    }
    assert schemes["apiKeyQuery"]["in"] == "query" and schemes["apiKeyQuery"]["name"] == "token"
    assert schemes["basicAuth"]["scheme"] == "basic" and schemes["cookieAuth"]["in"] == "cookie"
    create = schema["paths"]["/api/hub/uploads"]["post"]
    assert {"apiKeyBearer": []} in create["security"] and {} not in create["security"]
    assert "security" not in schema["paths"]["/api/hub/models"]["get"]  # public
    assert "/settings/api-keys" in schema["info"]["description"]


def test_the_schema_is_served_as_yaml_and_json():
    response = Client().get("/api/schema/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["info"]["title"] == "Model Hub API"
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200 and "/api/hub/uploads" in response.json()["paths"]


def test_the_docs_page_loads_swagger_ui_from_the_hub_itself():
    client = Client()
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    start_up = ""
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the hub (no internet in browsers here)"
        response = client.get(asset)
        assert response.status_code == 200, asset
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        elif asset.startswith("/api/docs/?script"):  # Swagger UI's start-up, a file (no inline script)
            start_up = response.content.decode()
    assert "/api/schema/" in start_up


# --- Real answers against the schema.


def _date_time(value) -> bool:
    # Every date the hub's APIs send comes from models_app.dates.iso_z.
    return not isinstance(value, str) or bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value))


FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("date-time")(_date_time)


def strict(node, components):
    """An OpenAPI 3.0 schema as plain JSON Schema, with its $refs inlined and extra fields refused."""
    if isinstance(node, list):
        return [strict(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return strict(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: strict(sub, components) for name, sub in value.items()}
        elif key != "nullable":
            out[key] = strict(value, components)
    if "properties" in out:
        out.setdefault("additionalProperties", False)
    return {"anyOf": [{"type": "null"}, out]} if node.get("nullable") else out


class Checker:
    """Checks answers against the schema's operation (path template, method, status code)."""

    def __init__(self, schema):
        self.schema = schema
        self.seen = set()

    def __call__(self, response, method: str, path: str):
        operation = self.schema["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {path} answered {status}, not documented"
        documented = operation["responses"][status]
        self.seen.add((path, method))
        if "content" not in documented:
            assert not response.content
            return None
        body = response.json()
        json_schema = strict(
            documented["content"]["application/json"]["schema"], self.schema["components"]["schemas"]
        )
        jsonschema.Draft7Validator(json_schema, format_checker=FORMATS).validate(body)
        return body


def put_part(client, url: str, data: bytes) -> int:
    """PUT one part where the hub said to: its own endpoint (local disk) or a presigned S3 URL."""
    if url.startswith("http://testserver"):
        response = client.put(
            url.removeprefix("http://testserver"), data, content_type="application/octet-stream"
        )
        assert response["ETag"]
        return response
    request = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_real_answers_of_every_operation_match_the_schema(schema, creator, run_on_commit):
    check = Checker(schema)
    _, raw = ApiKey.create(user=creator, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})

    def post(path, data=None):
        return api.post(path, data or {}, content_type="application/json")

    model = check(
        post("/api/hub/models", {"name": "Schema LoRA", "type": "LORA", "tags": ["ink"]}),
        "post",
        "/api/hub/models",
    )
    version = check(
        post(
            f"/api/hub/models/{model['id']}/versions",
            {"name": "v1", "base_model": "SD 1.5", "trained_words": ["ink"]},
        ),
        "post",
        "/api/hub/models/{model_id}/versions",
    )
    content = demo.tiny_lora()
    started = check(
        post(
            "/api/hub/uploads",
            {"version_id": version["id"], "filename": "ink.safetensors", "size": len(content)},
        ),
        "post",
        "/api/hub/uploads",
    )
    assert started["status"] == "uploading" and started["hashes"] is None
    file_id = started["id"]
    signed = check(
        post(f"/api/hub/uploads/{file_id}/parts/1"), "post", "/api/hub/uploads/{file_id}/parts/{part_number}"
    )
    answer = put_part(Client(), signed["url"], content)
    if not isinstance(answer, int):
        check(answer, "put", "/api/hub/parts/{token}")
    parts = check(api.get(f"/api/hub/uploads/{file_id}/parts"), "get", "/api/hub/uploads/{file_id}/parts")
    assert [p["Size"] for p in parts] == [len(content)]
    found = check(
        api.get(
            "/api/hub/uploads", {"version": version["id"], "name": "ink.safetensors", "size": len(content)}
        ),
        "get",
        "/api/hub/uploads",
    )
    assert [u["id"] for u in found["uploads"]] == [file_id] and found["uploads"][0]["parts"] == parts
    with run_on_commit():
        completed = check(
            post(f"/api/hub/uploads/{file_id}/complete"), "post", "/api/hub/uploads/{file_id}/complete"
        )
    assert completed["status"] == "pending"
    files = check(
        api.get(f"/api/hub/versions/{version['id']}/files"), "get", "/api/hub/versions/{version_id}/files"
    )
    ready = files["files"][0]
    assert (
        ready["status"] == "ready" and ready["hashes"]["AutoV3"] and ready["detected"]["model_type"] == "LORA"
    )
    published = check(
        post(f"/api/hub/versions/{version['id']}/publish"), "post", "/api/hub/versions/{version_id}/publish"
    )
    assert published["status"] == "published"
    page = check(Client().get("/api/hub/models?limit=1"), "get", "/api/hub/models")
    assert page["items"][0]["name"] == "Schema LoRA" and page["items"][0]["published_at"]

    other = check(
        post(
            "/api/hub/uploads",
            {"version_id": version["id"], "filename": "notes.txt", "size": 5, "type": "Other"},
        ),
        "post",
        "/api/hub/uploads",
    )
    check(api.delete(f"/api/hub/uploads/{other['id']}"), "delete", "/api/hub/uploads/{file_id}")
    assert not ModelFile.objects.filter(id=other["id"]).exists()  # the aborted upload is gone

    # Editing, the primary file, unpublishing and deleting (issue 12).
    def patch(path, data):
        return api.patch(path, data, content_type="application/json")

    edited = check(
        patch(f"/api/hub/models/{model['id']}", {"name": "Schema LoRA 2", "tags": ["ink", "pen"]}),
        "patch",
        "/api/hub/models/{model_id}",
    )
    assert edited["slug"] == "schema-lora-2" and edited["tags"] == ["ink", "pen"]
    check(
        patch(f"/api/hub/versions/{version['id']}", {"trained_words": ["inky"]}),
        "patch",
        "/api/hub/versions/{version_id}",
    )
    check(post(f"/api/hub/files/{file_id}/primary"), "post", "/api/hub/files/{file_id}/primary")
    unfinished = post(
        "/api/hub/uploads", {"version_id": version["id"], "filename": "later.safetensors", "size": 9}
    ).json()
    refused = check(
        post(f"/api/hub/files/{unfinished['id']}/primary"), "post", "/api/hub/files/{file_id}/primary"
    )
    assert "only a ready file" in refused["detail"]
    check(api.delete(f"/api/hub/files/{unfinished['id']}"), "delete", "/api/hub/files/{file_id}")
    unpublished = check(
        post(f"/api/hub/versions/{version['id']}/unpublish"),
        "post",
        "/api/hub/versions/{version_id}/unpublish",
    )
    assert unpublished["status"] == "unpublished"
    check(post(f"/api/hub/models/{model['id']}/unpublish"), "post", "/api/hub/models/{model_id}/unpublish")
    check(api.delete(f"/api/hub/versions/{version['id']}"), "delete", "/api/hub/versions/{version_id}")
    check(api.delete(f"/api/hub/models/{model['id']}"), "delete", "/api/hub/models/{model_id}")
    check(api.delete(f"/api/hub/models/{model['id']}"), "delete", "/api/hub/models/{model_id}")  # 404 now

    # The error answers are documented too.
    assert "name" in check(post("/api/hub/models", {"type": "LORA"}), "post", "/api/hub/models")
    check(Client().post("/api/hub/models", {}, content_type="application/json"), "post", "/api/hub/models")
    check(Client().get("/api/hub/models?sort=best"), "get", "/api/hub/models")
    check(api.get("/api/hub/versions/999999/files"), "get", "/api/hub/versions/{version_id}/files")
    expired = Client().put("/api/hub/parts/not-a-token", b"x", content_type="application/octet-stream")
    check(expired, "put", "/api/hub/parts/{token}")

    workflow = make_model(
        creator,
        type="Workflows",
        filename="wf.json",
        content=b'{"1": {"class_type": "KSampler", "inputs": {}}}',
    )
    path = "/api/hub/versions/{version_id}/workflow"
    assert (
        check(api.get(f"/api/hub/versions/{workflow.versions.get().id}/workflow"), "get", path)["nodes"] == 1
    )
    check(api.get("/api/hub/versions/999999/workflow"), "get", path)

    # Images (resources): a script posts one, the worker processes it, the API describes it.
    def image_upload(name: str, data: bytes):
        f = io.BytesIO(data)
        f.name = name
        return f

    with run_on_commit():
        posted = check(
            api.post(
                "/api/hub/images",
                {"file": image_upload("a.png", demo.example_image((1, 2, 3), (4, 5, 6), prompt="ink"))},
            ),
            "post",
            "/api/hub/images",
        )
        junk = check(
            api.post("/api/hub/images", {"file": image_upload("b.png", b"no image")}),
            "post",
            "/api/hub/images",
        )
    assert (
        check(api.get(f"/api/hub/images/{posted['id']}"), "get", "/api/hub/images/{image_id}")["meta"][
            "prompt"
        ]
        == "ink"
    )
    assert (
        check(api.get(f"/api/hub/images/{junk['id']}"), "get", "/api/hub/images/{image_id}")["status"]
        == "rejected"
    )
    check(api.get("/api/hub/images/999999"), "get", "/api/hub/images/{image_id}")
    # Its level (docs/moderation.md#nsfw-levels): 200 with the new level, 400 for a level that isn't one.
    image_path = f"/api/hub/images/{posted['id']}"
    assert (
        check(
            api.patch(image_path, {"nsfw_level": 4}, content_type="application/json"),
            "patch",
            "/api/hub/images/{image_id}",
        )["nsfw_level"]
        == 4
    )
    check(
        api.patch(image_path, {"nsfw_level": 3}, content_type="application/json"),
        "patch",
        "/api/hub/images/{image_id}",
    )
    check(
        Client().patch(image_path, {"nsfw_level": 1}, content_type="application/json"),
        "patch",
        "/api/hub/images/{image_id}",
    )
    check(api.post("/api/hub/images", {}), "post", "/api/hub/images")
    check(Client().post("/api/hub/images", {}), "post", "/api/hub/images")

    # Reviews (community): by someone else than the creator, with their own key.
    reviewed = make_model(creator, name="Reviewed").versions.get()
    reviewer = make_user("reviewer")
    _, reviewer_key = ApiKey.create(user=reviewer, name="script")
    reviewer_api = Client(headers={"Authorization": f"Bearer {reviewer_key}"})
    path = "/api/hub/versions/{version_id}/review"

    def put_review(client, data):
        return client.put(f"/api/hub/versions/{reviewed.id}/review", data, content_type="application/json")

    assert check(put_review(reviewer_api, {"recommended": True, "text": "*ok*"}), "put", path)["recommended"]
    check(put_review(reviewer_api, {"recommended": False}), "put", path)
    check(put_review(api, {"recommended": True}), "put", path)  # the creator: 400
    check(put_review(Client(), {"recommended": True}), "put", path)
    listed = check(
        Client().get(f"/api/hub/versions/{reviewed.id}/reviews"),
        "get",
        "/api/hub/versions/{version_id}/reviews",
    )
    assert listed["count"] == 1 and listed["next_page"] is None
    check(Client().get("/api/hub/versions/999999/reviews"), "get", "/api/hub/versions/{version_id}/reviews")
    check(reviewer_api.delete(f"/api/hub/versions/{reviewed.id}/review"), "delete", path)
    check(reviewer_api.delete(f"/api/hub/versions/{reviewed.id}/review"), "delete", path)  # 404 now

    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    # Checked the same way in their own tests: tests/resources/test_wildcards_api.py, and the follows
    # test below.
    documented = {op for op in documented if "/wildcards" not in op[0] and not _is_follows(op[0])}
    documented = {op for op in documented if not op[0].startswith("/api/hub/notifications")}  # below
    documented = {op for op in documented if not _is_collections_or_profiles(op[0])}
    documented = {op for op in documented if not _is_lineage(op[0])}
    documented = {op for op in documented if not _is_comments(op[0])}
    documented = {op for op in documented if not _is_moderation(op[0])}
    assert documented == check.seen


def _is_lineage(path: str) -> bool:  # checked in tests/community/test_lineage.py
    return path.endswith("/lineage") or "/parents" in path


def _is_follows(path: str) -> bool:
    return path.startswith(("/api/hub/follows", "/api/hub/feed"))


def test_real_answers_of_the_follow_operations_match_the_schema(schema, creator, fan):
    check = Checker(schema)
    _, raw = ApiKey.create(user=fan, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    model = make_model(creator, name="Followed")

    def send(method, body):
        return getattr(api, method)("/api/hub/follows", body, content_type="application/json")

    assert check(send("post", {"target_type": "user", "target_id": creator.id}), "post", "/api/hub/follows")
    row = check(send("post", {"target_type": "model", "target_id": model.id}), "post", "/api/hub/follows")
    check(send("post", {"target_type": "model", "target_id": model.id}), "post", "/api/hub/follows")  # 200
    check(send("post", {"target_type": "user", "target_id": fan.id}), "post", "/api/hub/follows")  # 400
    check(send("post", {"target_type": "model", "target_id": 999999}), "post", "/api/hub/follows")  # 404
    check(Client().post("/api/hub/follows", {}, content_type="application/json"), "post", "/api/hub/follows")
    assert len(check(api.get("/api/hub/follows"), "get", "/api/hub/follows")["items"]) == 2
    check(Client().get("/api/hub/follows"), "get", "/api/hub/follows")
    feed = check(api.get("/api/hub/feed"), "get", "/api/hub/feed")
    assert feed["items"][0]["kind"] == "version" and feed["items"][0]["model_name"] == "Followed"
    check(api.get("/api/hub/feed?page=0"), "get", "/api/hub/feed")
    check(Client().get("/api/hub/feed"), "get", "/api/hub/feed")
    check(api.delete(f"/api/hub/follows/{row['id']}"), "delete", "/api/hub/follows/{follow_id}")
    check(api.delete(f"/api/hub/follows/{row['id']}"), "delete", "/api/hub/follows/{follow_id}")  # 404
    check(send("delete", {"target_type": "user", "target_id": creator.id}), "delete", "/api/hub/follows")
    check(send("delete", {"target_type": "user"}), "delete", "/api/hub/follows")  # 400
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {op for op in documented if _is_follows(op[0])} == check.seen


def test_real_answers_of_the_notification_operations_match_the_schema(schema, creator, fan):
    from community import notifications

    check = Checker(schema)
    _, raw = ApiKey.create(user=creator, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    notifications.notify(creator, "follower", actor=fan, key="schema:1", url="/user/bob", target_name="bob")
    notifications.notify(creator, "moderation", actor=None, key="schema:2", target_name="Something")
    listed = check(api.get("/api/hub/notifications"), "get", "/api/hub/notifications")
    assert listed["unread_count"] == 2 and {i["actor"] for i in listed["items"]} == {"bob", None}
    check(api.get("/api/hub/notifications?page=0"), "get", "/api/hub/notifications")  # 400
    check(Client().get("/api/hub/notifications"), "get", "/api/hub/notifications")  # 401
    path = "/api/hub/notifications/read"
    ids = [listed["items"][0]["id"]]
    assert (
        check(api.post(path, {"ids": ids}, content_type="application/json"), "post", path)["unread_count"]
        == 1
    )
    check(api.post(path, {"all": True}, content_type="application/json"), "post", path)
    check(api.post(path, {}, content_type="application/json"), "post", path)  # 400
    check(Client().post(path, {"all": True}, content_type="application/json"), "post", path)  # 401
    assert (
        check(api.get("/api/hub/notifications?unread=true"), "get", "/api/hub/notifications")["items"] == []
    )
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {op for op in documented if op[0].startswith("/api/hub/notifications")} == check.seen


def _is_collections_or_profiles(path: str) -> bool:
    return path.startswith(("/api/hub/collections", "/api/hub/users/", "/api/hub/profile"))


def test_real_answers_of_the_collection_and_profile_operations_match_the_schema(schema, creator, fan):
    check = Checker(schema)
    _, raw = ApiKey.create(user=fan, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    _, other_raw = ApiKey.create(user=creator, name="script")
    other = Client(headers={"Authorization": f"Bearer {other_raw}"})
    model = make_model(creator, name="Collected")
    one, items, item = (
        "/api/hub/collections/{collection_id}",
        "/api/hub/collections/{collection_id}/items",
        "/api/hub/collections/{collection_id}/items/{item_id}",
    )

    def send(client, method, url, body=None):
        return getattr(client, method)(url, body, content_type="application/json")

    created = check(
        send(api, "post", "/api/hub/collections", {"name": "Inks"}), "post", "/api/hub/collections"
    )
    check(send(api, "post", "/api/hub/collections", {"name": ""}), "post", "/api/hub/collections")
    check(send(Client(), "post", "/api/hub/collections", {"name": "x"}), "post", "/api/hub/collections")
    check(api.get("/api/hub/collections"), "get", "/api/hub/collections")
    check(Client().get("/api/hub/collections"), "get", "/api/hub/collections")
    check(Client().get("/api/hub/collections?owner=nobody"), "get", "/api/hub/collections")
    cid = created["id"]
    check(Client().get(f"/api/hub/collections/{cid}"), "get", one)
    check(Client().get("/api/hub/collections/999999"), "get", one)
    check(send(api, "patch", f"/api/hub/collections/{cid}", {"description": "Wet"}), "patch", one)
    check(send(api, "patch", f"/api/hub/collections/{cid}", {"visibility": "x"}), "patch", one)
    check(send(other, "patch", f"/api/hub/collections/{cid}", {"name": "x"}), "patch", one)
    check(send(Client(), "patch", f"/api/hub/collections/{cid}", {"name": "x"}), "patch", one)
    check(send(api, "patch", "/api/hub/collections/999999", {"name": "x"}), "patch", one)
    body = {"item_type": "model", "item_id": model.id}
    added = check(send(api, "post", f"/api/hub/collections/{cid}/items", body), "post", items)
    check(send(api, "post", f"/api/hub/collections/{cid}/items", body), "post", items)
    check(send(api, "post", f"/api/hub/collections/{cid}/items", {"item_type": "x"}), "post", items)
    check(send(other, "post", f"/api/hub/collections/{cid}/items", body), "post", items)
    check(send(Client(), "post", f"/api/hub/collections/{cid}/items", body), "post", items)
    check(send(api, "post", f"/api/hub/collections/{cid}/items", {**body, "item_id": 999999}), "post", items)
    check(Client().get(f"/api/hub/collections/{cid}/items"), "get", items)
    check(Client().get(f"/api/hub/collections/{cid}/items?page=0"), "get", items)
    check(Client().get("/api/hub/collections/favorites/items"), "get", items)
    check(Client().get("/api/hub/collections/999999/items"), "get", items)
    check(send(other, "delete", f"/api/hub/collections/{cid}/items/{added['id']}"), "delete", item)
    check(send(Client(), "delete", f"/api/hub/collections/{cid}/items/{added['id']}"), "delete", item)
    check(send(api, "delete", f"/api/hub/collections/{cid}/items/{added['id']}"), "delete", item)
    check(send(api, "delete", f"/api/hub/collections/{cid}/items/{added['id']}"), "delete", item)  # 404
    check(send(api, "delete", f"/api/hub/collections/{cid}/items", body), "delete", items)
    check(send(api, "delete", f"/api/hub/collections/{cid}/items", {"item_type": "x"}), "delete", items)
    check(send(other, "delete", f"/api/hub/collections/{cid}/items", body), "delete", items)
    check(send(Client(), "delete", f"/api/hub/collections/{cid}/items", body), "delete", items)
    check(send(api, "delete", "/api/hub/collections/999999/items", body), "delete", items)
    check(send(api, "delete", "/api/hub/collections/favorites"), "delete", one)  # 400
    check(send(other, "delete", f"/api/hub/collections/{cid}"), "delete", one)
    check(send(Client(), "delete", f"/api/hub/collections/{cid}"), "delete", one)
    check(send(api, "delete", f"/api/hub/collections/{cid}"), "delete", one)
    check(send(api, "delete", f"/api/hub/collections/{cid}"), "delete", one)  # 404 now
    check(Client().get("/api/hub/collections/favorites"), "get", one)

    check(Client().get(f"/api/hub/users/{creator.username}"), "get", "/api/hub/users/{username}")
    check(Client().get("/api/hub/users/nobody"), "get", "/api/hub/users/{username}")
    check(api.get("/api/hub/profile"), "get", "/api/hub/profile")
    check(Client().get("/api/hub/profile"), "get", "/api/hub/profile")
    assert check(
        send(api, "patch", "/api/hub/profile", {"bio": "*hi*", "links": ["https://e.test"]}),
        "patch",
        "/api/hub/profile",
    )["links"] == ["https://e.test"]
    check(
        send(api, "patch", "/api/hub/profile", {"links": ["javascript:alert(1)"]}),
        "patch",
        "/api/hub/profile",
    )
    check(send(Client(), "patch", "/api/hub/profile", {"bio": "x"}), "patch", "/api/hub/profile")
    avatar = "/api/hub/profile/avatar"
    check(api.get(avatar), "get", avatar)  # 404: none yet
    check(Client().get(avatar), "get", avatar)
    png = demo.example_image((10, 20, 30), (200, 180, 160))
    check(api.post(avatar, {"avatar": SimpleUploadedFile("me.png", png, "image/png")}), "post", avatar)
    check(api.get(avatar), "get", avatar)
    check(
        api.post(avatar, {"avatar": SimpleUploadedFile("me.svg", b"<svg/>", "image/svg+xml")}), "post", avatar
    )
    check(Client().post(avatar, {}), "post", avatar)
    check(api.delete(avatar), "delete", avatar)
    check(Client().delete(avatar), "delete", avatar)

    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {op for op in documented if _is_collections_or_profiles(op[0])} == check.seen


def _is_comments(path: str) -> bool:
    return path.startswith(("/api/hub/comments", "/api/hub/reactions"))


def test_real_answers_of_the_comment_operations_match_the_schema(schema, creator, fan):
    check = Checker(schema)
    _, raw = ApiKey.create(user=fan, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    _, owner_raw = ApiKey.create(user=creator, name="script")
    owner = Client(headers={"Authorization": f"Bearer {owner_raw}"})
    model = make_model(creator, name="Discussed")
    comments, one, pin = (
        "/api/hub/comments",
        "/api/hub/comments/{comment_id}",
        "/api/hub/comments/{comment_id}/pin",
    )

    def post(client, body):
        return client.post(comments, body, content_type="application/json")

    top = check(
        post(api, {"target_type": "model", "target_id": model.id, "body": "*hi* @alice"}), "post", comments
    )
    assert top["mentions"] == ["alice"]
    reply = {"target_type": "model", "target_id": model.id, "body": "re", "parent_id": top["id"]}
    check(post(api, reply), "post", comments)
    check(post(api, {"target_type": "model", "target_id": model.id, "body": ""}), "post", comments)  # 400
    check(post(Client(), {}), "post", comments)  # 401
    check(post(api, {"target_type": "model", "target_id": 999999, "body": "x"}), "post", comments)  # 404
    listed = check(Client().get(f"{comments}?target_type=model&target_id={model.id}"), "get", comments)
    assert listed["items"][0]["replies"][0]["body"] == "re"
    check(Client().get(f"{comments}?target_type=model&target_id=x"), "get", comments)  # 400
    check(Client().get(f"{comments}?target_type=model&target_id=999999"), "get", comments)  # 404
    url = f"/api/hub/comments/{top['id']}"
    check(api.patch(url, {"body": "edited"}, content_type="application/json"), "patch", one)
    check(api.patch(url, {"body": ""}, content_type="application/json"), "patch", one)  # 400
    check(owner.patch(url, {"body": "x"}, content_type="application/json"), "patch", one)  # 403
    check(Client().patch(url, {"body": "x"}, content_type="application/json"), "patch", one)  # 401
    check(api.patch("/api/hub/comments/999999", {"body": "x"}, content_type="application/json"), "patch", one)
    check(owner.post(f"{url}/pin", {}, content_type="application/json"), "post", pin)
    check(api.post(f"{url}/pin", {}, content_type="application/json"), "post", pin)  # 403
    check(owner.post(f"{url}/pin", {"pinned": "maybe"}, content_type="application/json"), "post", pin)  # 400
    check(Client().post(f"{url}/pin", {}, content_type="application/json"), "post", pin)  # 401
    check(owner.post("/api/hub/comments/999999/pin", {}, content_type="application/json"), "post", pin)

    reactions = "/api/hub/reactions"
    like = {"target_type": "comment", "target_id": top["id"], "kind": "like"}
    assert (
        check(api.post(reactions, like, content_type="application/json"), "post", reactions)["reactions"][
            "like"
        ]
        == 1
    )
    check(api.post(reactions, like, content_type="application/json"), "post", reactions)  # 200
    check(api.post(reactions, {**like, "kind": "angry"}, content_type="application/json"), "post", reactions)
    check(Client().post(reactions, like, content_type="application/json"), "post", reactions)
    check(
        api.post(reactions, {**like, "target_id": 999999}, content_type="application/json"), "post", reactions
    )
    check(api.delete(reactions, like, content_type="application/json"), "delete", reactions)
    check(api.delete(f"{reactions}?target_type=comment&target_id={top['id']}&kind=like"), "delete", reactions)
    check(api.delete(f"{reactions}?target_type=comment&kind=like"), "delete", reactions)  # 400
    check(Client().delete(reactions, like, content_type="application/json"), "delete", reactions)  # 401
    check(
        api.delete(reactions, {**like, "target_id": 999999}, content_type="application/json"),
        "delete",
        reactions,
    )

    check(owner.delete(url), "delete", one)  # 403
    check(Client().delete(url), "delete", one)  # 401
    check(api.delete(url), "delete", one)
    check(api.delete(url), "delete", one)  # 404 now
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {op for op in documented if _is_comments(op[0])} == check.seen


def _is_moderation(path: str) -> bool:
    return path.startswith(("/api/hub/reports", "/api/hub/moderation/"))


def test_real_answers_of_the_moderation_operations_match_the_schema(schema, creator, fan, moderator):
    check = Checker(schema)
    _, raw = ApiKey.create(user=fan, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    _, mod_raw = ApiKey.create(user=moderator, name="script")
    mod = Client(headers={"Authorization": f"Bearer {mod_raw}"})
    model = make_model(creator, name="Reported")
    reports, queue, actions, audit = (
        "/api/hub/reports",
        "/api/hub/moderation/queue",
        "/api/hub/moderation/actions",
        "/api/hub/moderation/audit",
    )

    def post(client, path, body):
        return client.post(path, body, content_type="application/json")

    body = {"target_type": "model", "target_id": model.id, "reason": "spam", "details": "ads"}
    assert check(post(api, reports, body), "post", reports)["status"] == "open"
    check(post(api, reports, body), "post", reports)  # 409
    check(post(api, reports, {**body, "reason": "ugly"}), "post", reports)  # 400
    check(post(api, reports, {**body, "target_id": 999999}), "post", reports)  # 404
    check(post(Client(), reports, body), "post", reports)  # 401
    listed = check(mod.get(queue), "get", queue)
    assert listed["items"][0]["reasons"] == ["spam"]
    check(mod.get(queue + "?reason=nope"), "get", queue)  # 400
    check(api.get(queue), "get", queue)  # 403
    check(Client().get(queue), "get", queue)  # 401
    decision = {"target_type": "model", "target_id": model.id, "action": "hide", "reason": "Spam."}
    assert check(post(mod, actions, decision), "post", actions)["action"] == "hide"
    check(post(mod, actions, {**decision, "action": "boom"}), "post", actions)  # 400
    check(post(mod, actions, {**decision, "target_id": 999999}), "post", actions)  # 404
    check(post(api, actions, decision), "post", actions)  # 403
    check(post(Client(), actions, decision), "post", actions)  # 401
    rows = check(mod.get(f"{audit}?target_type=model&target_id={model.id}"), "get", audit)
    assert [row["action"] for row in rows] == ["hide"]
    check(mod.get(f"{audit}?target_type=model&target_id=x"), "get", audit)  # 400
    check(api.get(f"{audit}?target_type=model&target_id={model.id}"), "get", audit)  # 403
    check(Client().get(audit), "get", audit)  # 401

    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {op for op in documented if _is_moderation(op[0])} == check.seen
