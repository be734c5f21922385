"""Junk in URLs and query strings gets a 4xx with a reason, never a 500 (docs/hostile-input.md)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HUGE = "9" * 25

URLS = [
    f"/models/{HUGE}", f"/models/{HUGE}/x", f"/models/1/compare?a={HUGE}&b=x",
    f"/api/hub/versions/{HUGE}/files", f"/api/hub/uploads/{HUGE}/parts", f"/api/download/models/{HUGE}",
    "/user/%00", "/tag/%00", "/search/?q=%00", "/models/?cursor=%00", f"/models/?limit={HUGE}",
    "/api/hub/models?cursor=eyJ4IjoxfQ", "/api/hub/models?sort=rated&cursor=WyJ4IiwgMV0",
    "/api/v1/model-versions/by-hash/%00", "/models/?type=%00", "/api/hub/models?creator=%00&tag=%00",
    "/search/?q=" + "a" * 5000, "/models/?base_model=%00", "/%00",
]  # fmt: skip


# Pages that answer junk with the page itself and a message (or a shortened query), not an error.
HANDLED_ON_THE_PAGE = {f"/models/?limit={HUGE}", "/search/?q=" + "a" * 5000}


@pytest.mark.parametrize("url", URLS)
def test_junk_in_a_url_is_a_client_error_not_a_server_error(url):
    response = Client(raise_request_exception=False).get(url)
    if url in HANDLED_ON_THE_PAGE:
        assert response.status_code == 200, url
    else:
        assert 400 <= response.status_code < 500, (url, response.status_code)


def test_a_bad_browse_parameter_is_explained_on_the_page():
    assert "limit must be between 1 and 100" in Client().get(f"/models/?limit={HUGE}").content.decode()


def test_a_nul_character_is_refused_with_a_reason():
    response = Client().get("/api/hub/models?tag=%00")
    assert response.status_code == 400 and response.json() == {
        "detail": "The request contains a NUL character."
    }
    response = Client().get("/api/v1/models?tag=%00")  # CivitAI's clients read `error`
    assert response.status_code == 400 and response.json() == {
        "error": "The request contains a NUL character."
    }


def test_a_nul_character_in_an_api_body_is_a_field_error(client, creator):
    client.force_login(creator)
    response = client.post(
        "/api/hub/models",
        {"name": "evil\x00name", "type": "LORA", "tags": ["a\x00"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "name" in response.json()


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/hub/models", '{"name": "x", "type": "LORA", "tags": ' + DEEP + "}"),
        ("/api/hub/models", DEEP),
        ("/api/hub/models/{model}/versions", '{"name": "v2", "trained_words": ' + DEEP + "}"),
        ("/api/hub/uploads", '{"version_id": ' + DEEP + "}"),
    ],
)
def test_a_json_body_nested_too_deeply_is_a_400_that_says_so(creator, path, body):
    """With an API key, as a script would send it: RecursionError used to surface as a 500."""
    from community.models import ApiKey
    from models_app.models import AIModel
    from tests.factories import make_model

    model = make_model(creator)
    _, key = ApiKey.create(user=creator, name="script")
    models_before = AIModel.objects.count()
    response = Client(raise_request_exception=False).post(
        path.format(model=model.id), body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is nested too deeply; at most 32 levels are allowed."
    }
    assert AIModel.objects.count() == models_before and model.versions.count() == 1


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"name": "x", "type": "LORA", "nsfw": NaN}', "not valid JSON"),
        ('{"name": "x", "type": "LORA", "tags": [Infinity]}', "not valid JSON"),
        (b'{"name": "\xff"}', "not UTF-8"),
        ('{"name": "x",', "not valid JSON"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_with_the_reason(client, creator, body, reason):
    client.force_login(creator)
    response = client.post("/api/hub/models", body, content_type="application/json")
    assert response.status_code == 400 and reason in response.json()["detail"]


def test_the_civitai_hash_batch_refuses_a_deep_body_with_its_own_error_shape(client):
    response = client.post("/api/v1/model-versions/by-hash", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Request must include an array of SHA256 Hashes.")
    assert "nested too deeply" in response.json()["error"]


# --- Parameter junk (docs/hostile-input.md, items 15 to 18): pagination, cursors, huge query strings.
BIG = "9" * 30
JUNK_QUERIES = [
    "limit=-1", "limit=0", f"limit={BIG}", "limit=1e9", "limit=%F0%9F%92%A9", "page=0", "page=-5", f"page={BIG}",
    "cursor=!!!", "cursor=eyJ4IjoxfQ", "cursor=WyJ4IiwgMV0", "cursor=" + "A" * 5000, "cursor=%FF%FE",
    "cursor=W251bGwsIG51bGxd", "cursor=-1", f"cursor={BIG}", "sort=%27%3B%20DROP%20TABLE%20x%3B--",
    "types=" + ",".join(["LORA"] * 500), "ids=" + ",".join(["1"] * 500), "nsfw=maybe", "browsingLevel=-1",
    "period=Forever", "q=" + "a" * 100_000, "query=" + "%E2%80%AE" * 2000, "tag=" + "x" * 100_000,
]  # fmt: skip
LIST_URLS = [
    "/api/v1/models", "/api/v1/images", "/api/v1/tags", "/api/v1/creators", "/api/models",
    "/api/hub/models", "/api/hub/comments", "/api/hub/feed", "/api/hub/notifications", "/models/", "/search/",
]  # fmt: skip


@pytest.mark.parametrize("query", JUNK_QUERIES)
def test_junk_parameters_on_every_list_are_answered_with_a_4xx_or_the_list(query):
    """Many answers are a 400 naming the parameter; pages may show the list with a message instead.
    Never a 500: the directory's fixture fails the test on any server error or ERROR log."""
    client = Client(raise_request_exception=False)
    for url in LIST_URLS:
        response = client.get(f"{url}?{query}")
        assert response.status_code in (200, 400, 401, 403, 404), (url, query[:60], response.status_code)
        if response.status_code == 400 and url.startswith("/api/"):
            body = response.json()
            assert body.get("error") or body.get("detail"), (url, body)


def test_a_100_kb_query_string_is_answered_not_choked_on():
    response = Client().get("/api/v1/models?" + "&".join(f"k{i}=v" for i in range(15_000)))
    assert response.status_code == 400 and "fields" in response.json()["error"]


HASH_JUNK = [
    "zz",
    "0" * 10_000,
    "%00",
    "' OR 1=1 --",
    "..%2f..%2fetc%2fpasswd",
    "ＡＢＣＤ１２３４",
    "\u202e" * 8,
]


@pytest.mark.parametrize("junk", HASH_JUNK)
def test_hash_lookup_junk_is_a_404_or_400_with_an_error(junk):
    response = Client().get(f"/api/v1/model-versions/by-hash/{junk}")
    assert response.status_code in (400, 404) and response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/alice/tiny/resolve/main/..%2f..%2fetc%2fpasswd", "/alice/tiny/resolve/main/%2e%2e/%2e%2e/etc/passwd",
        "/alice/tiny/resolve/refs%2fpr%2f1/x", "/alice/tiny/resolve/main//etc/passwd",
        "/api/models/alice/tiny/tree/main/..%2f..", "/api/models/alice/tiny/revision/" + "a" * 300,
    ],
)  # fmt: skip
def test_path_traversal_on_the_hf_api_finds_nothing(creator, path):
    response = Client().get(path)
    assert response.status_code in (400, 404), (path, response.status_code)


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,2-3",
        "bytes=-0",
        "bytes=9-1",
        "bytes=999999-",
        "bytes=x-y",
        "pages=1-2",
        "bytes=" + "0-1," * 5000,
    ],
)
def test_range_abuse_is_a_416_or_the_whole_file(client, creator, header):
    from tests.factories import make_model

    version = make_model(creator).versions.get()
    client.force_login(creator)
    location = client.get(f"/api/download/models/{version.id}")["Location"]
    if not location.startswith("http://testserver/"):
        pytest.skip("on S3 the redirect leads to the bucket, which answers ranges itself")
    response = client.get(location.removeprefix("http://testserver"), HTTP_RANGE=header)
    assert response.status_code in (200, 416), (header, response.status_code)
    if response.status_code == 200:
        assert int(response["Content-Length"]) == version.files.get().size


# --- Upload requests: wrong content types and file names a filesystem would trip on (items 1 and 14).
NAMES = [
    "../../etc/passwd.safetensors", "/abs/olute.safetensors", "C:\\win\\x.safetensors", "a\x00b.safetensors",
    "line\r\nbreak.safetensors", 'quo"te\'s.safetensors', "rtl\u202egnp.safetensors", "x" * 990 + ".safetensors",
    "\u0000", "..", "名前.safetensors", "e\u0301\u0301\u0301.safetensors",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_a_file_name_is_a_label_never_a_path(creator, name):
    from community.models import ApiKey
    from models_app.models import ModelFile
    from tests.factories import make_model

    version = make_model(creator, publish=False).versions.get()
    _, key = ApiKey.create(user=creator, name="script")
    files_before = ModelFile.objects.count()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": name, "size": 100},
        content_type="application/json",
    )
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 400:
        assert response.json() and ModelFile.objects.count() == files_before
        return
    stored = ModelFile.objects.get(id=response.json()["id"]).name
    assert not any(c in stored for c in "/\\\x00\r\n\u202e") and not stored.startswith(".")
    assert len(stored) <= 255


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", '{"name": "x", "type": "LORA"}'),
        ("application/xml", "<model><name>x</name></model>"),
        ("multipart/form-data; boundary=zzz", "--zzz\r\nbroken"),
        ("application/x-www-form-urlencoded", "name=x&type=LORA&" + "a=1&" * 5000),
        ("application/json; charset=utf-16", '{"name": "x"}'.encode("utf-16").decode("latin-1")),
    ],
)
def test_a_write_with_the_wrong_content_type_is_a_4xx_and_writes_nothing(creator, content_type, body):
    from community.models import ApiKey
    from models_app.models import AIModel

    _, key = ApiKey.create(user=creator, name="script")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
        "/api/hub/models", body, content_type=content_type
    )
    assert 400 <= response.status_code < 500 and response.json()
    assert not AIModel.objects.exists()


def test_an_api_key_in_the_query_string_never_reaches_the_redirect(client, creator):
    """Item 21: the file URL a download redirects to carries a short-lived signature, not the key."""
    from community.models import ApiKey
    from tests.factories import make_model

    version = make_model(creator).versions.get()
    _, key = ApiKey.create(user=creator, name="script")
    response = client.get(f"/api/download/models/{version.id}?token={key}")
    assert response.status_code in (302, 307) and key not in response["Location"]
    assert response.get("Referrer-Policy") == "same-origin"
