"""Descriptions: Markdown rendered once, when written, by a linear-time parser and an allow-list
sanitiser; pages and APIs show the stored HTML; one length limit per field on every way in
(docs/hostile-input.md, item 13)."""

import importlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from markdown_it import MarkdownIt

from bench.bench_markdown import INPUTS
from models_app import services
from models_app.models import (
    MAX_DESCRIPTION_LENGTH,
    MAX_LICENSE_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_TRIGGER_WORD_LENGTH,
    MAX_VERSION_NAME_LENGTH,
    TAG_MAX_LENGTH,
    AIModel,
    ModelType,
    ModelVersion,
)
from models_app.text import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown

from ..factories import make_model, publish_model

REL = "nofollow noopener ugc"


class Elements(HTMLParser):
    """The elements of an HTML fragment as a browser sees them: (tag, attributes), and the text."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data

    def all(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.elements if t == tag]


def assert_safe(html: str) -> Elements:
    """Only allow-listed tags and attributes; links to the web, to mail or to this hub only, marked
    nofollow; images only from a path on this hub."""
    page = Elements(html)
    for tag, attrs in page.elements:
        assert tag in ALLOWED_TAGS, tag
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set()), attrs
    for link in page.all("a"):
        assert link["rel"] == REL
        assert urlsplit(link.get("href", "")).scheme in ("", "http", "https", "mailto"), link
    for image in page.all("img"):
        assert image["src"].startswith("/") and not image["src"].startswith("//"), image
        assert "\\" not in image["src"]
    return page


# --- Rendering


@pytest.mark.parametrize("name", [name for name in INPUTS])
def test_every_adversarial_input_at_the_length_limit_renders_as_sanitised_html(name):
    text = INPUTS[name](MAX_DESCRIPTION_LENGTH)
    html = render_markdown(text)
    assert html
    assert_safe(html)


def test_markdown_is_rendered_and_raw_html_is_shown_as_text_never_run():
    html = render_markdown(
        "**bold** [site](https://example.com) <script>alert(1)</script> [x](javascript:alert(1))"
        '<img src=x onerror="alert(1)"> <a href="https://evil.example" onclick="steal()">hi</a>'
    )
    page = assert_safe(html)
    assert "<strong>bold</strong>" in html
    assert page.all("a") == [{"href": "https://example.com", "rel": REL}]
    assert not page.all("img") and not page.all("script")
    assert "<script>alert(1)</script>" in page.text  # the reader sees what was typed
    assert "[x](javascript:alert(1))" in page.text


def test_text_python_accepts_but_utf_8_cannot_encode_still_renders():
    assert render_markdown("a \ud800 b\x00c") == "<p>a \ufffd bc</p>"


def test_an_image_from_another_site_becomes_a_link_and_is_never_loaded():
    page = assert_safe(render_markdown("Look: ![tracking pixel](https://tracker.example/p.png?u=1)"))
    assert not page.all("img")
    assert page.all("a") == [{"href": "https://tracker.example/p.png?u=1", "rel": REL}]
    assert page.text == "Look: tracking pixel"
    untitled = assert_safe(render_markdown("![](https://tracker.example/p.png)"))
    assert untitled.text == "https://tracker.example/p.png"  # no alt text: the address is the link


@pytest.mark.parametrize(
    "source",
    [
        "//tracker.example/p.png",
        "</\\tracker.example/p.png>",
        "</\t/tracker.example/p.png>",
        "HTTPS://tracker.example/p.png",
        "tracker.example/p.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
    ],
)
def test_no_image_address_reaches_another_site(source):
    page = assert_safe(render_markdown(f"![x]({source})"))
    for image in page.all("img"):  # `/%5Ctracker.example/p.png` is a path on this hub, not a host
        assert urlsplit(image["src"])[:2] == ("", "")


def test_an_image_on_this_hub_stays_an_image():
    page = assert_safe(render_markdown('![a fox](/images/3/fox.png "Fox")'))
    assert page.all("img") == [{"src": "/images/3/fox.png", "alt": "a fox", "title": "Fox"}]


def test_a_badge_inside_a_link_leaves_the_link_with_the_badge_text():
    page = assert_safe(
        render_markdown("[![Discord](https://img.shields.io/d.svg)](https://discord.example/x)")
    )
    assert not page.all("img")
    assert page.all("a") == [{"href": "https://discord.example/x", "rel": REL}]
    assert page.text == "Discord"


def test_tables_strikethrough_and_code_render_with_column_alignment():
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | ~~2~~ |\n\n```\n<b>code</b>\n```")
    page = assert_safe(html)
    assert page.all("th") == [{"align": "left"}, {"align": "right"}]
    assert "<s>2</s>" in html and "&lt;b&gt;code&lt;/b&gt;" in html


# --- Stored when written


def test_creating_a_model_and_a_version_stores_their_rendered_descriptions(creator):
    model = services.create_model(
        owner=creator, name="M", type=ModelType.LORA, description="Soft **washes**."
    )
    version = services.create_version(model=model, name="v1", base_model="SD 1.5", description="*First*.")
    model.refresh_from_db()
    version.refresh_from_db()
    assert model.description_html == "<p>Soft <strong>washes</strong>.</p>"
    assert version.description_html == "<p><em>First</em>.</p>"
    empty = services.create_model(owner=creator, name="Empty", type=ModelType.LORA)
    assert empty.description_html == ""


def test_the_upload_wizard_stores_the_rendered_descriptions(client, creator):
    client.force_login(creator)
    client.post("/models/new", {"name": "Wizard", "type": "LORA", "description": "A **bold** one."})
    model = AIModel.objects.get(name="Wizard")
    client.post(
        f"/models/{model.id}/versions/new",
        {"name": "v1.0", "base_model": "SD 1.5", "description": "Fixed *hands*.", "early_access_days": 0,
         "usage_control": "Download"},
    )  # fmt: skip
    assert AIModel.objects.get().description_html == "<p>A <strong>bold</strong> one.</p>"
    assert ModelVersion.objects.get().description_html == "<p>Fixed <em>hands</em>.</p>"


class FormFields(HTMLParser):
    """What a browser sends when the first form on a page is submitted as it is."""

    def __init__(self, html: str):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = self._textarea = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        kind = a.get("type", "text")
        if tag == "input" and name and kind not in ("submit", "button", "file"):
            if kind not in ("checkbox", "radio"):
                self.data.setdefault(name, []).append(a.get("value", ""))
            elif "checked" in a:
                self.data.setdefault(name, []).append(a.get("value", "on"))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data.setdefault(self._select, []).append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            value = self.data[self._textarea][0]
            self.data[self._textarea][0] = value[1:] if value.startswith("\n") else value  # as browsers do
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def submit_admin_change_form(client, url: str, **changes):
    data = FormFields(client.get(url).content.decode()).data
    data["description"] = [changes.pop("description")]
    assert not changes
    return client.post(url, data)


def test_the_admin_editing_a_description_renders_it_again(client, creator):
    model = make_model(creator, description="Old.")
    version = model.versions.get()
    admin = type(creator).objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    response = submit_admin_change_form(
        client, f"/admin/models_app/aimodel/{model.id}/change/", description="New **bold** text."
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    response = submit_admin_change_form(
        client, f"/admin/models_app/modelversion/{version.id}/change/", description="Notes ~~v0~~."
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    model.refresh_from_db()
    version.refresh_from_db()
    assert model.description_html == "<p>New <strong>bold</strong> text.</p>"
    assert version.description_html == "<p>Notes <s>v0</s>.</p>"
    html = client.get(model.get_absolute_url()).content.decode()
    assert "New <strong>bold</strong> text." in html and "Notes <s>v0</s>." in html


def test_the_migration_renders_the_descriptions_of_existing_rows_in_batches(creator):
    models = [make_model(creator, name=f"Old {i}", description=f"Model **{i}**.") for i in range(5)]
    services.create_version(model=models[0], name="v2", base_model="SD 1.5", description="Notes _here_.")
    AIModel.objects.update(description_html="")  # as the rows were before the migration
    ModelVersion.objects.update(description_html="")
    updated = dict(AIModel.objects.values_list("id", "updated_at"))
    migration = importlib.import_module("models_app.migrations.0019_description_html")
    migration.render_descriptions(apps, None, batch=2)
    for model in AIModel.objects.all():
        assert model.description_html == f"<p>Model <strong>{model.name[4:]}</strong>.</p>"
        assert model.updated_at == updated[model.id]  # the APIs' updatedAt did not move
    assert ModelVersion.objects.get(name="v2").description_html == "<p>Notes <em>here</em>.</p>"
    assert set(ModelVersion.objects.filter(name="v1.0").values_list("description_html", flat=True)) == {""}


# --- Never rendered when read


def test_pages_and_apis_show_the_stored_html_without_rendering_anything(
    client, creator, run_on_commit, monkeypatch
):
    version = publish_model(creator, run_on_commit, description="Written **once**.")
    model = version.model
    AIModel.objects.filter(id=model.id).update(description_html="<p>stored <em>model</em> html</p>")
    ModelVersion.objects.filter(id=version.id).update(description_html="<p>stored <em>version</em> html</p>")

    def no_rendering(*args, **kwargs):
        raise AssertionError("Markdown rendered while reading")

    monkeypatch.setattr(MarkdownIt, "render", no_rendering)
    monkeypatch.setattr("models_app.text.render_markdown", no_rendering)
    for module in ("models_app.views", "compat.civitai.shapes"):  # where the renderer was called on read
        monkeypatch.setattr(f"{module}.render_markdown", no_rendering, raising=False)

    page = client.get(model.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "<p>stored <em>model</em> html</p>" in html and "<p>stored <em>version</em> html</p>" in html
    listed = client.get("/api/v1/models", {"limit": 100})
    assert listed.status_code == 200
    [item] = [m for m in listed.json()["items"] if m["id"] == model.id]
    assert item["description"] == "<p>stored <em>model</em> html</p>"
    assert item["modelVersions"][0]["description"] == "<p>stored <em>version</em> html</p>"
    one = client.get(f"/api/v1/model-versions/{version.id}").json()
    assert one["description"] == "<p>stored <em>version</em> html</p>"


# --- One length limit per field, the same in the forms, the API and the model


def over(limit: int) -> str:
    return "x" * (limit + 1)


MODEL_FIELDS = {
    "name": (MAX_MODEL_NAME_LENGTH, lambda v: v),
    "description": (MAX_DESCRIPTION_LENGTH, lambda v: v),
    "license": (MAX_LICENSE_LENGTH, lambda v: v),
    "tags": (TAG_MAX_LENGTH, lambda v: [v]),
}
VERSION_FIELDS = {
    "name": (MAX_VERSION_NAME_LENGTH, lambda v: v),
    "description": (MAX_DESCRIPTION_LENGTH, lambda v: v),
    "trained_words": (MAX_TRIGGER_WORD_LENGTH, lambda v: [v]),
}


def test_the_limits_are_the_ones_the_docs_give():
    assert MAX_DESCRIPTION_LENGTH == 20_000
    assert (MAX_MODEL_NAME_LENGTH, MAX_VERSION_NAME_LENGTH, TAG_MAX_LENGTH) == (200, 120, 60)
    assert (MAX_TRIGGER_WORD_LENGTH, MAX_LICENSE_LENGTH) == (200, 120)


def _model_form(**fields) -> dict:
    data = {"name": "Limits", "type": "LORA", **fields}
    return {k: ", ".join(v) if isinstance(v, list) else v for k, v in data.items()}


def _version_form(**fields) -> dict:
    data = {"name": "v1.0", "base_model": "SD 1.5", "early_access_days": 0, "usage_control": "Download"}
    data.update(fields)
    return {k: ", ".join(v) if isinstance(v, list) else v for k, v in data.items()}


@pytest.mark.parametrize("field", MODEL_FIELDS)
def test_the_model_form_refuses_one_character_over_the_limit_and_saves_nothing(client, creator, field):
    limit, shape = MODEL_FIELDS[field]
    client.force_login(creator)
    response = client.post("/models/new", _model_form(**{field: shape(over(limit))}))
    assert response.status_code == 200
    assert str(limit) in response.content.decode()
    assert not AIModel.objects.exists()
    response = client.post("/models/new", _model_form(**{field: shape("x" * limit)}))
    assert response.status_code == 302 and AIModel.objects.count() == 1


@pytest.mark.parametrize("field", VERSION_FIELDS)
def test_the_version_form_refuses_one_character_over_the_limit_and_saves_nothing(client, creator, field):
    limit, shape = VERSION_FIELDS[field]
    model = services.create_model(owner=creator, name="Limits", type=ModelType.LORA)
    client.force_login(creator)
    url = f"/models/{model.id}/versions/new"
    response = client.post(url, _version_form(**{field: shape(over(limit))}))
    assert response.status_code == 200
    assert str(limit) in response.content.decode()
    assert not ModelVersion.objects.exists()
    response = client.post(url, _version_form(**{field: shape("x" * limit)}))
    assert response.status_code == 302 and ModelVersion.objects.count() == 1


def test_a_description_that_fits_in_the_browser_fits_on_the_server(client, creator):
    """A textarea counts a line break as one character but sends it as two (CRLF)."""
    text = ("line\n" * (MAX_DESCRIPTION_LENGTH // 5))[: MAX_DESCRIPTION_LENGTH - 1] + "x"
    assert len(text) == MAX_DESCRIPTION_LENGTH
    client.force_login(creator)
    response = client.post("/models/new", _model_form(description=text.replace("\n", "\r\n")))
    assert response.status_code == 302
    assert AIModel.objects.get().description == text


@pytest.mark.parametrize("field", MODEL_FIELDS)
def test_the_api_refuses_a_model_one_character_over_the_limit_and_saves_nothing(client, creator, field):
    limit, shape = MODEL_FIELDS[field]
    client.force_login(creator)
    body = {"name": "Limits", "type": "LORA", field: shape(over(limit))}
    response = client.post("/api/hub/models", body, content_type="application/json")
    assert response.status_code == 400
    assert str(limit) in response.content.decode()
    assert not AIModel.objects.exists()
    body[field] = shape("x" * limit)
    assert client.post("/api/hub/models", body, content_type="application/json").status_code == 201


@pytest.mark.parametrize("field", VERSION_FIELDS)
def test_the_api_refuses_a_version_one_character_over_the_limit_and_saves_nothing(client, creator, field):
    limit, shape = VERSION_FIELDS[field]
    model = services.create_model(owner=creator, name="Limits", type=ModelType.LORA)
    client.force_login(creator)
    url = f"/api/hub/models/{model.id}/versions"
    body = {"name": "v1.0", "base_model": "SD 1.5", field: shape(over(limit))}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert str(limit) in response.content.decode()
    assert not ModelVersion.objects.exists()
    body[field] = shape("x" * limit)
    assert client.post(url, body, content_type="application/json").status_code == 201


@pytest.mark.parametrize("field", MODEL_FIELDS)
def test_the_model_refuses_one_character_over_the_limit_and_saves_nothing(creator, field):
    limit, shape = MODEL_FIELDS[field]
    fields = {"owner": creator, "name": "Limits", "type": ModelType.LORA}
    with pytest.raises(ValidationError) as refused:
        services.create_model(**{**fields, field: shape(over(limit))})
    assert str(limit) in " ".join(refused.value.messages)
    assert not AIModel.objects.exists()
    services.create_model(**{**fields, field: shape("x" * limit)})


@pytest.mark.parametrize("field", VERSION_FIELDS)
def test_the_version_refuses_one_character_over_the_limit_and_saves_nothing(creator, field):
    limit, shape = VERSION_FIELDS[field]
    model = services.create_model(owner=creator, name="Limits", type=ModelType.LORA)
    fields = {"model": model, "name": "v1.0", "base_model": "SD 1.5"}
    with pytest.raises(ValidationError) as refused:
        services.create_version(**{**fields, field: shape(over(limit))})
    assert str(limit) in " ".join(refused.value.messages)
    assert not ModelVersion.objects.exists()
    services.create_version(**{**fields, field: shape("x" * limit)})


def test_the_admin_refuses_a_description_over_the_limit_and_keeps_the_old_one(client, creator):
    model = make_model(creator, description="Old.")
    client.force_login(type(creator).objects.create_superuser("root", "root@example.com", "pw"))
    url = f"/admin/models_app/aimodel/{model.id}/change/"
    response = submit_admin_change_form(client, url, description=over(MAX_DESCRIPTION_LENGTH))
    assert response.status_code == 200 and str(MAX_DESCRIPTION_LENGTH) in response.content.decode()
    model.refresh_from_db()
    assert (model.description, model.description_html) == ("Old.", "<p>Old.</p>")
