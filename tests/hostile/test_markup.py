"""Markdown and HTML injection in every text field people write (docs/hostile-input.md, item 13).

Each payload goes into the fields of models, versions, comments, reviews, collections, profiles, example
images (their prompt), workflows (node titles) and wildcard packs (their values), through the API a
script would use or the upload pipeline. A field may refuse it with a 400 or keep it as text; either
way, no page or API answer that shows it carries a live script, event handler or `javascript:` link."""

import io
import json

import pytest
from django.test import Client
from PIL import Image, PngImagePlugin

from community.models import ApiKey
from models_app.models import ModelType
from tests.factories import make_model
from tests.resources.workflow_samples import dumps, ui_04

from .markup import live_markup

pytestmark = pytest.mark.django_db

# Each combines several vectors, so a field cut to its length limit still carries the first one.
PAYLOADS = [
    "<script>alert(1)</script><img src=x onerror=alert(1)><svg onload=alert(1)>",
    '[a](javascript:alert(1)) ![x](javascript:alert(1)) <a href="javascript:alert(1)">x</a> [b](JaVaScRiPt&#58;x)',
    '"><iframe src=//evil.example></iframe><details open ontoggle=alert(1)><use href=data:text/html,x>',
]


def api(user) -> Client:
    _, key = ApiKey.create(user=user, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _short(payload: str, limit: int) -> str:
    return payload[:limit]


def _png_with_prompt(prompt: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{prompt}\nNegative prompt: {prompt}\nSteps: 20, Sampler: {prompt[:30]}")
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 50)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _workflow_with_titles(payload: str) -> bytes:
    workflow = ui_04()
    for node in workflow["nodes"]:
        node["title"] = payload
        if node.get("widgets_values"):
            node["widgets_values"] = [payload if isinstance(v, str) else v for v in node["widgets_values"]]
    return dumps(workflow)


def _json_html(answer, *, description_is_html: bool) -> str:
    """Every string of a JSON answer that is HTML, joined: what a client inserts into a page as it is.
    The hub's API marks them `*_html` (its plain `description` of a collection is text, as written);
    CivitAI's `description` is HTML (docs/civitai-api.md)."""
    found = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and (
            key.endswith("html") or (description_is_html and key == "description")
        ):
            found.append(value)

    walk(answer)
    return "\n".join(found)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_every_text_field_is_never_live_on_any_page_or_api_answer(
    payload, creator, fan, run_on_commit
):
    owner, reader = api(creator), api(fan)
    statuses = []

    def write(response):
        statuses.append((response.request["PATH_INFO"], response.status_code))
        assert response.status_code in (200, 201, 202, 400), (statuses[-1], response.content[:300])
        return response.json() if response.status_code in (200, 201, 202) else None

    with run_on_commit():
        model = make_model(creator, name="Hostile fields", description=payload)
    version = model.versions.get()
    created = write(
        owner.post(
            "/api/hub/models",
            {"name": _short(payload, 200), "type": "LORA", "description": payload, "tags": [payload[:60]]},
            content_type="application/json",
        )
    )
    write(
        owner.patch(
            f"/api/hub/models/{model.id}",
            {"name": _short(payload, 200), "description": payload, "tags": [payload[:60], "ok"]},
            content_type="application/json",
        )
    )
    write(
        owner.patch(
            f"/api/hub/versions/{version.id}",
            {"name": payload[:120], "description": payload, "trained_words": [payload[:200]]},
            content_type="application/json",
        )
    )
    comment = write(
        reader.post(
            "/api/hub/comments",
            {"target_type": "model", "target_id": model.id, "body": payload},
            content_type="application/json",
        )
    )
    write(
        reader.put(
            f"/api/hub/versions/{version.id}/review",
            {"recommended": True, "text": payload},
            content_type="application/json",
        )
    )
    collection = write(
        reader.post(
            "/api/hub/collections",
            {"name": payload[:100], "description": payload},
            content_type="application/json",
        )
    )
    profile = write(
        reader.patch(
            "/api/hub/profile",
            {"bio": payload, "links": ["javascript:alert(1)"]},
            content_type="application/json",
        )
    )
    assert profile is None, "a javascript: link in a profile must be refused"
    profile = write(reader.patch("/api/hub/profile", {"bio": payload}, content_type="application/json"))
    with run_on_commit():
        image = write(
            owner.post(
                "/api/hub/images",
                {
                    "file": _upload("hostile.png", _png_with_prompt(payload)),
                    "version_id": version.id,
                },
            )
        )
    with run_on_commit():
        workflow = make_model(
            creator, name="Hostile workflow", type=ModelType.WORKFLOWS, base_model="SDXL 1.0",
            content=_workflow_with_titles(payload), filename="graph.json",
        )  # fmt: skip
        pack = make_model(
            creator, name="Hostile pack", type=ModelType.WILDCARDS, base_model="Other",
            content=f"{payload}\nplain\n".encode(), filename="animal.txt",
        )  # fmt: skip

    pages = [
        model.get_absolute_url(),
        f"/models/{model.id}/compare",
        f"/comments/model/{model.id}",
        f"/reviews/versions/{version.id}/all",
        f"/user/{fan.username}",
        f"/user/{creator.username}",
        "/models/",
        "/search/?q=alert",
        "/",
        workflow.get_absolute_url(),
        pack.get_absolute_url(),
    ]
    draft = f"/models/{created['id']}" if created else None
    if draft:
        pages.append(draft)
    if collection:
        pages.append(collection["url"])
    if image:
        pages.append(f"/images/{image['id']}")
    creator_session, fan_session = Client(), Client()
    creator_session.force_login(creator)
    fan_session.force_login(fan)
    for page in pages:
        for client in (Client(), fan_session, creator_session):
            response = client.get(page, follow=True)
            if page == draft and client is not creator_session:
                assert response.status_code == 404  # a draft: its owner's eyes only
                continue
            assert response.status_code == 200, (page, response.status_code)
            assert not live_markup(response.content.decode()), (page, live_markup(response.content.decode()))

    answers = [
        "/api/hub/models",
        f"/api/hub/comments?target_type=model&target_id={model.id}",
        f"/api/hub/versions/{version.id}/reviews",
        f"/api/hub/users/{fan.username}",
        f"/api/v1/models/{model.id}",
        f"/api/v1/model-versions/{version.id}",
        f"/api/hub/versions/{workflow.versions.get().id}/workflow",
        f"/api/hub/versions/{pack.versions.get().id}/wildcards",
    ]
    if collection:
        answers.append(f"/api/hub/collections/{collection['id']}")
    if image:
        answers.append(f"/api/hub/images/{image['id']}")
    for answer in answers:
        response = owner.get(answer)
        assert response.status_code == 200, (answer, response.status_code, response.content[:200])
        html = _json_html(response.json(), description_is_html=answer.startswith("/api/v1/"))
        assert not live_markup(html), (answer, live_markup(html))
    assert comment is None or not live_markup(comment["body_html"])
    assert profile is None or not live_markup(profile["bio_html"])


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


def test_the_checker_finds_live_markup():
    """The assertion above can fail: the checker sees each kind of live markup it looks for."""
    assert live_markup("<script>alert(1)</script>")
    assert live_markup('<img src="x" onerror="alert(1)">')
    assert live_markup('<a href=" JavaScript:alert(1)">x</a>')
    assert live_markup("<iframe src=//evil.example></iframe>")
    assert not live_markup('<script src="/static/js/app.js"></script><a href="https://x.example">x</a>')
    assert not live_markup("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert json.dumps(PAYLOADS)  # the corpus is plain text
