"""Wildcard packs through the real upload pipeline, their lists in the API, and trying templates."""

import io
import json
import time

import pytest
from django.test import Client

from models_app import services
from models_app.models import FileStatus, ModelFile, ModelType
from tests.factories import make_model
from tests.resources.test_wildcards_formats import make_zip

ANIMALS = b"# animals\ncat\ndog\nfox\n"


def pack(owner, *, name="Animals", content=ANIMALS, filename="animal.txt", publish=True):
    model = make_model(
        owner, name=name, type=ModelType.WILDCARDS, content=content, filename=filename, publish=publish
    )
    return model.versions.get()


def expand(client, **body):
    return client.post("/api/hub/wildcards/expand", json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_an_uploaded_txt_pack_is_ready_and_its_lists_are_in_the_api(creator, client):
    version = pack(creator)
    model_file = version.files.get()
    assert model_file.status == FileStatus.READY, model_file.status_message
    response = client.get(f"/api/hub/versions/{version.id}/wildcards")
    assert response.status_code == 200
    assert response.json() == {"version_id": version.id, "lists": {"animal": ["cat", "dog", "fox"]}}


@pytest.mark.django_db
def test_a_zip_pack_with_folders_is_read_through_the_pipeline(creator, client):
    data = make_zip({"animal.txt": b"cat\n", "style/paint.txt": b"oil\nink\n"})
    version = pack(creator, content=data, filename="pack.zip")
    lists = client.get(f"/api/hub/versions/{version.id}/wildcards").json()["lists"]
    assert lists == {"animal": ["cat"], "style/paint": ["oil", "ink"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filename, content, words",
    [
        ("evil.zip", make_zip({"../../etc/x.txt": b"a"}), "outside the pack"),
        ("loop.json", json.dumps({"a": ["__b__"], "b": ["__a__"]}).encode(), "cycle"),
        ("bomb.yaml", b"a: &a [x, x]\nb: [*a, *a]\n", "aliases"),
    ],
)
def test_a_bad_pack_is_rejected_with_a_sentence_and_nothing_stored(creator, filename, content, words):
    model = services.create_model(owner=creator, name="Bad pack", type=ModelType.WILDCARDS)
    version = services.create_version(model=model, name="v1", base_model="Other")
    from models_app.tasks import process_file

    model_file = services.add_file(version=version, name=filename, content=io.BytesIO(content))
    process_file.apply(args=[model_file.id])
    model_file = ModelFile.objects.get(id=model_file.id)
    assert model_file.status == FileStatus.REJECTED
    assert words in model_file.status_message
    assert model_file.blob_id is None


@pytest.mark.django_db
def test_txt_files_in_other_model_types_are_not_read_as_wildcards(creator):
    model = make_model(
        creator, type=ModelType.LORA, content=b"a\n__x__\n", filename="notes.txt", publish=False
    )
    from models_app.tasks import process_file

    model_file = model.versions.get().files.get()
    process_file.apply(args=[model_file.id])
    model_file.refresh_from_db()
    assert "wildcards" not in model_file.metadata


@pytest.mark.django_db
def test_visibility_of_a_draft_pack_owner_moderator_other_anonymous(creator, fan, moderator):
    version = pack(creator, publish=False)
    url = f"/api/hub/versions/{version.id}/wildcards"
    owner, other, mod = Client(), Client(), Client()
    owner.force_login(creator)
    other.force_login(fan)
    mod.force_login(moderator)
    assert owner.get(url).status_code == 200
    assert mod.get(url).status_code == 200
    assert other.get(url).status_code == 404  # a draft is not confirmed to exist
    assert Client().get(url).status_code == 404
    assert expand(other, template="__animal__", version_ids=[version.id]).status_code == 404
    assert expand(owner, template="__animal__", version_ids=[version.id]).status_code == 200


@pytest.mark.django_db
def test_a_version_that_is_not_a_pack_is_404(creator, client):
    lora = make_model(creator).versions.get()
    assert client.get(f"/api/hub/versions/{lora.id}/wildcards").status_code == 404
    assert client.get("/api/hub/versions/99999999/wildcards").status_code == 404


@pytest.mark.django_db
def test_random_expansions_are_reproducible_under_a_seed(creator, client):
    version = pack(creator)
    body = dict(template="a {red|blue|green} __animal__", version_ids=[version.id], count=20, seed=42)
    first = expand(client, **body)
    assert first.status_code == 200, first.json()
    prompts = first.json()["prompts"]
    assert len(prompts) == 20
    assert all(
        p.split()[1] in {"red", "blue", "green"} and p.split()[2] in {"cat", "dog", "fox"} for p in prompts
    )
    assert len(set(prompts)) > 1
    assert expand(client, **body).json()["prompts"] == prompts
    assert expand(client, **{**body, "seed": 43}).json()["prompts"] != prompts
    assert first.json()["seed"] == 42


@pytest.mark.django_db
def test_combinatorial_prompts_and_count(creator, client):
    version = pack(creator)
    data = expand(
        client, template="{red|blue} __animal__", version_ids=[version.id], mode="combinatorial", count=100
    ).json()
    assert sorted(data["prompts"]) == sorted(
        f"{c} {a}" for c in ("red", "blue") for a in ("cat", "dog", "fox")
    )
    assert data["combinatorial_count"] == 6 and data["combinatorial_count_more"] is False
    # Counting stops at the cap and says "more than" instead of building 2^40 prompts.
    big = expand(client, template="{a|b}" * 40, mode="random", count=3, seed=1, with_count=True).json()
    assert big["combinatorial_count"] == 10_000 and big["combinatorial_count_more"] is True
    assert len(big["prompts"]) == 3


@pytest.mark.django_db
def test_packs_combine_by_name_and_missing_wildcards_are_named(creator, fan, client):
    animals = pack(creator)
    colors = pack(fan, name="Colors", content=b"red\nblue\n", filename="color.txt")
    data = expand(
        client, template="__color__ __animal__ __nope__", version_ids=[animals.id, colors.id], count=5, seed=1
    ).json()
    assert all(p.split()[0] in {"red", "blue"} for p in data["prompts"])
    assert data["missing"] == ["nope"]
    found = client.get("/api/hub/wildcards/packs", {"q": "colo"}).json()
    assert [p["version_id"] for p in found] == [colors.id]


@pytest.mark.django_db
def test_a_cycle_formed_by_combining_packs_is_a_400_with_a_sentence(creator, fan, client):
    a = pack(creator, name="A", content=b"__b__\n", filename="a.txt")
    b = pack(fan, name="B", content=b"__a__\n", filename="b.txt")
    response = expand(client, template="__a__", version_ids=[a.id, b.id])
    assert response.status_code == 400
    assert "cycle" in response.json()["detail"] and "__a__" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, words",
    [
        ({"template": "x" * 2001}, "2000 characters|2,000"),
        ({"template": "{" * 10_000 + "a" + "}" * 10_000}, "2000 characters|2,000"),
        ({"template": "{" * 30 + "a" + "}" * 30}, "braces deep"),
        ({"template": "a", "count": 101}, "100"),
        ({"template": "a", "count": 0}, "1"),
        ({"template": "a", "mode": "everything"}, "valid choice"),
        ({"template": "a", "seed": -1}, "0"),
        ({"template": "a", "version_ids": ["x"]}, "integer"),
        ({"template": ""}, "blank"),
    ],
)
def test_caps_and_junk_are_400_with_a_sentence(client, body, words):
    response = expand(client, **body)
    assert response.status_code == 400
    import re

    assert re.search(words, json.dumps(response.json())), response.json()


@pytest.mark.django_db
def test_a_template_that_would_take_forever_is_stopped_within_the_time_limit(creator, client, settings):
    settings.WILDCARD_EXPAND_TIMEOUT = 1.5
    # No cycle, 24 levels (under the chain cap), but each level doubles: one prompt is 2^24 words.
    doubling = {f"l{i}": [f"__l{i + 1}__ __l{i + 1}__"] for i in range(23)} | {"l23": ["word"]}
    version = pack(creator, content=json.dumps(doubling).encode(), filename="doubling.json")
    started = time.monotonic()
    response = expand(client, template="__l0__", version_ids=[version.id], count=1, seed=1)
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.json()
    assert elapsed < 6
    assert "longer than 1.5 seconds" in response.json()["detail"]
    # A combinatorial explosion in the template alone still answers in time: 100 prompts and a count
    # that stopped early ("more than").
    big = expand(client, template="{10$$a|b|c|d|e|f|g|h|i|j|k|l}" * 10, mode="combinatorial", count=100)
    assert big.status_code == 200 and big.json()["combinatorial_count_more"] is True


@pytest.mark.django_db
def test_deep_nesting_in_a_pack_never_escapes_as_a_500(creator, client):
    deep = "{" * 18 + "x" + "}" * 18
    version = pack(creator, content=(deep + "\n").encode(), filename="deep.txt")
    response = expand(client, template="__deep__ " * 50, version_ids=[version.id], count=100, seed=1)
    assert response.status_code in (200, 400)
    assert "detail" in response.json() or response.json()["prompts"]


@pytest.mark.django_db
def test_expansions_are_rate_limited(client, settings):
    settings.WILDCARD_EXPAND_RATE_LIMIT = 2
    assert expand(client, template="a", seed=1).status_code == 200
    assert expand(client, template="a", seed=1).status_code == 200
    response = expand(client, template="a", seed=1)
    assert response.status_code == 429 and "Too many" in response.json()["detail"]


def run_import(*args) -> list[dict]:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("import_models", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db(transaction=True)
def test_import_models_detects_wildcard_files_and_packs_from_content(base_models, tmp_path):
    from tests.factories import make_user

    make_user("wendy")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "colors.txt").write_bytes(b"red\nblue\n")
    (folder / "pack.zip").write_bytes(make_zip({"a.txt": b"x\n", "sub/b.yaml": b"c: [y, z]\n"}))
    (folder / "styles.yaml").write_bytes(b"style:\n  paint: [oil, ink]\n")
    (folder / "config.yaml").write_bytes(b"model:\n  target: ldm.models.Diffusion\n")  # not a pack
    (folder / "loop.json").write_bytes(json.dumps({"a": ["__a__"]}).encode())
    lines = {
        line["path"].rsplit("/", 1)[-1]: line
        for line in run_import(str(folder), "--owner", "wendy", "--wait")
    }
    from models_app.models import AIModel

    for name in ("colors.txt", "pack.zip", "styles.yaml"):
        assert lines[name]["status"] == "ready", lines[name]
        assert AIModel.objects.get(id=lines[name]["model_id"]).type == "Wildcards"
    assert AIModel.objects.get(id=lines["config.yaml"]["model_id"]).type == "Other"
    assert "wildcards" not in ModelFile.objects.get(version_id=lines["config.yaml"]["version_id"]).metadata
    # Given the type, a pack with a cycle is imported and rejected with the sentence naming it.
    [loop] = run_import(str(folder / "loop.json"), "--owner", "wendy", "--type", "Wildcards", "--wait")
    assert loop["status"] == "rejected" and "__a__ → __a__" in loop["message"]
    pack_version = lines["pack.zip"]["version_id"]
    lists = Client().get(f"/api/hub/versions/{pack_version}/wildcards")
    assert lists.status_code == 404  # imported without --publish: a draft


@pytest.mark.django_db
def test_the_model_page_previews_each_list_and_escapes_values(creator, client):
    values = b"cat\n<script>alert(1)</script>\n" + b"".join(b"animal %d\n" % i for i in range(20))
    version = pack(creator, content=values)
    page = client.get(version.model.get_absolute_url()).content.decode()
    assert "__animal__" in page and "<td>22</td>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "animal 5" in page and "animal 19" not in page  # the first entries only
    assert 'data-testid="wildcard-try"' in page and "js/wildcards.js" in page
    lora = make_model(creator, name="Plain LoRA")
    assert "wildcard-panel" not in client.get(lora.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_real_answers_of_the_wildcard_operations_match_the_openapi_schema(creator, client, settings):
    from django.core.management import call_command

    from tests.test_openapi import Checker

    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    schema = json.loads(out.getvalue())
    check = Checker(schema)
    version = pack(creator)
    check(
        client.get(f"/api/hub/versions/{version.id}/wildcards"),
        "get",
        "/api/hub/versions/{version_id}/wildcards",
    )
    check(client.get("/api/hub/versions/424242/wildcards"), "get", "/api/hub/versions/{version_id}/wildcards")
    path = "/api/hub/wildcards/expand"
    check(expand(client, template="__animal__", version_ids=[version.id], seed=3), "post", path)
    check(expand(client, template="{a|b}", mode="combinatorial"), "post", path)
    check(expand(client, template="__x__", version_ids=[version.id], count=500), "post", path)
    check(expand(client, template="a", version_ids=[424242]), "post", path)
    settings.WILDCARD_EXPAND_RATE_LIMIT = 1
    check(expand(client, template="a"), "post", path)
    check(client.get("/api/hub/wildcards/packs", {"q": "anim"}), "get", "/api/hub/wildcards/packs")
    documented = {(p, m) for p, item in schema["paths"].items() for m in item if "/wildcards" in p}
    assert documented == check.seen
    assert {"version_wildcards", "expand_wildcards", "list_wildcard_packs"} <= {
        op["operationId"] for item in schema["paths"].values() for op in item.values()
    }


@pytest.mark.django_db
def test_text_the_database_refuses_is_cleaned_and_markup_is_kept_as_text(creator, client):
    content = b'{"odd": ["a\\u0000b", "c\\ud800d", "<img src=x onerror=alert(1)>", "javascript:alert(1)"]}'
    version = pack(creator, content=content, filename="odd.json")
    assert version.files.get().status == FileStatus.READY
    values = client.get(f"/api/hub/versions/{version.id}/wildcards").json()["lists"]["odd"]
    assert values[0] == "ab" and "\ud800" not in values[1] and values[1].startswith("c")
    assert "<img src=x onerror=alert(1)>" in values
    page = client.get(version.model.get_absolute_url()).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x onerror" not in page


@pytest.mark.django_db
def test_without_javascript_the_try_form_expands_on_the_page_itself(creator, client):
    version = pack(creator)
    url = version.model.get_absolute_url()
    page = client.get(url).content.decode()
    assert "csrfmiddlewaretoken" not in page.split('data-testid="wildcard-try"')[1].split("</form>")[0]
    query = {
        "wc_version": version.id,
        "template": "{red|blue} __animal__",
        "mode": "combinatorial",
        "count": 10,
    }
    page = client.get(url, query).content.decode()
    for prompt in ("red cat", "blue fox"):
        assert f"<li>{prompt}</li>" in page
    assert "6 combinations" in page
    page = client.get(url, {**query, "template": "__a__" + "{" * 25 + "}" * 25}).content.decode()
    assert "braces deep" in page
    page = client.get(url, {**query, "count": "500"}).content.decode()
    assert "100" in page.split('data-testid="wildcard-error"')[1][:200]
