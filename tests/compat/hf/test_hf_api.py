"""The Hugging Face Hub read API (docs/hf-api.md): JSON shapes, /resolve headers, errors with the
X-Error-Code the client maps to its exceptions, junk in paths, ranges, and list pagination.
tests/compat/clients/test_huggingface_hub.py runs the real client against the same catalog."""

import hashlib
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from community.models import ApiKey
from compat.hf import repos as hf_repos
from compat.hf import views as hf_api
from models_app.models import AIModel, DownloadRecord, ModelVersion, UsageControl
from tests.factories import make_user

from .catalog import seed

pytestmark = pytest.mark.django_db

Z_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
REPO = "alice/tiny-watercolor"


@pytest.fixture
def hub(creator, fan, run_on_commit):
    return seed(creator, fan, run_on_commit)


def body_of(response) -> bytes:
    return response.getvalue()


def sha1_git(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def assert_hub_error(response, status: int, code: str | None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    if response.request["REQUEST_METHOD"] != "HEAD":
        assert response.json()["error"] == response["X-Error-Message"]
    assert response.get("X-Error-Code") == code


def no_xet(response):
    """The server never advertises Xet, so the client downloads over plain HTTP (docs/hf-api.md#client-versions)."""
    names = {name.lower() for name in response.headers}
    assert not {n for n in names if n.startswith("x-xet")}
    assert "xet" not in response.get("Link", "").lower()
    if response["Content-Type"] == "application/json":
        assert b"xetHash" not in response.content


# --- /api/models/<repo>


def test_model_info_names_the_repo_its_main_commit_and_its_files(client, hub):
    response = client.get(f"/api/models/{REPO}")
    assert response.status_code == 200
    info = response.json()
    assert info["id"] == info["modelId"] == REPO
    assert info["author"] == "alice"
    assert info["sha"] == hashlib.sha1(f"version:{hub.v2.id}".encode()).hexdigest()  # main = latest
    assert [s["rfilename"] for s in info["siblings"]] == [
        "README.md",
        "images/example.png",
        "tiny-watercolor-v2.safetensors",
    ]
    assert Z_DATE.fullmatch(info["lastModified"]) and Z_DATE.fullmatch(info["createdAt"])
    assert info["private"] is False and info["gated"] is False and info["disabled"] is False
    assert {"lora", "safetensors", "text-to-image"} <= set(info["tags"])
    assert info["pipeline_tag"] == "text-to-image"
    assert info["cardData"]["instance_prompt"] == "tinywc"
    no_xet(response)


def test_a_revision_is_main_a_commit_id_or_a_version_name(client, hub):
    v1_commit = hf_repos.commit_id(hub.v1)
    for revision in (v1_commit, "v1.0"):
        info = client.get(f"/api/models/{REPO}/revision/{revision}").json()
        assert info["sha"] == v1_commit
        assert [s["rfilename"] for s in info["siblings"]] == ["README.md", "tiny-watercolor.safetensors"]
    main = client.get(f"/api/models/{REPO}/revision/main").json()
    assert main["sha"] == hf_repos.commit_id(hub.v2)


def test_blobs_true_adds_sizes_git_ids_and_the_lfs_sha256(client, hub):
    blob = hub.v2_file.blob
    for flag in ("true", "True"):  # 2.x sends true, 0.36 sends Python's True
        siblings = client.get(f"/api/models/{REPO}?blobs={flag}").json()["siblings"]
        by_name = {s["rfilename"]: s for s in siblings}
        model_file = by_name["tiny-watercolor-v2.safetensors"]
        sha = blob.sha256.lower()
        assert model_file["size"] == blob.size
        assert model_file["lfs"] == {
            "size": blob.size,
            "sha256": sha,
            "pointerSize": len(pointer(sha, blob.size)),
        }
        assert model_file["blobId"] == sha1_git(pointer(sha, blob.size))  # what `git hash-object` prints
        readme = client.get(f"/{REPO}/resolve/main/README.md")
        assert by_name["README.md"]["blobId"] == sha1_git(body_of(readme))
        assert "lfs" not in by_name["README.md"]


def test_expand_returns_only_the_asked_properties(client, hub):
    info = client.get(f"/api/models/{REPO}?expand=sha&expand=downloads&expand=spaces").json()
    assert info == {"id": REPO, "sha": hf_repos.commit_id(hub.v2), "downloads": 0}
    assert_hub_error(client.get(f"/api/models/{REPO}?expand=secrets"), 400, None)


def test_unknown_and_hidden_repos_are_repo_not_found(client, hub, fan):
    for url in (
        "/api/models/alice/nope",
        "/api/models/nobody/tiny-watercolor",
        "/api/models/alice/secret-draft",  # a draft is invisible to others
        "/api/models/gpt2",  # no namespace
        "/api/models/api/anything",  # a reserved namespace
        f"/api/models/{'x' * 300}/y",
    ):
        assert_hub_error(client.get(url), 404, "RepoNotFound")
    client.force_login(fan)
    assert_hub_error(client.get("/api/models/alice/secret-draft"), 404, "RepoNotFound")
    assert_hub_error(client.get("/alice/secret-draft/resolve/main/tiny.safetensors"), 404, "RepoNotFound")


def test_the_creator_reads_a_draft_with_an_api_key(client, hub):
    _, key = ApiKey.create(user=hub.alice, name="hf")
    response = client.get("/api/models/alice/secret-draft", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["private"] is True
    file_response = client.get(
        "/alice/secret-draft/resolve/main/tiny.safetensors", headers={"Authorization": f"Bearer {key}"}
    )
    assert file_response.status_code == 200


def test_a_bad_api_key_is_a_401_the_client_reports_as_bad_credentials(client, hub):
    response = client.get(f"/api/models/{REPO}", headers={"Authorization": "Bearer hub_wrong"})
    assert_hub_error(response, 401, None)
    assert response["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_repo_ids_match_case_insensitively(client, hub):
    assert client.get("/api/models/Alice/Tiny-Watercolor").json()["id"] == REPO


@pytest.mark.parametrize(
    "revision", ["refs%2Fpr%2F1", "refs/pr/1", "nope", "v3.0", "A" * 40, "b" * 41, "..", "%2e%2e", "main%2Fx"]
)
def test_unknown_revisions_and_revisions_with_a_slash_are_revision_not_found(client, hub, revision):
    assert_hub_error(client.get(f"/api/models/{REPO}/revision/{revision}"), 404, "RevisionNotFound")


# --- /api/models/<repo>/tree/<rev>


def test_the_tree_lists_files_with_size_oid_and_lfs_and_folders_with_oid(client, hub):
    response = client.get(f"/api/models/{REPO}/tree/main")
    assert response.status_code == 200
    entries = response.json()
    assert [(e["type"], e["path"]) for e in entries] == [
        ("file", "README.md"),
        ("directory", "images"),
        ("file", "tiny-watercolor-v2.safetensors"),
    ]
    blob = hub.v2_file.blob
    model_file = entries[2]
    assert model_file["size"] == blob.size
    assert model_file["lfs"]["oid"] == blob.sha256.lower()  # `oid` here, `sha256` in siblings
    assert model_file["lfs"]["size"] == blob.size
    assert model_file["oid"] == sha1_git(pointer(blob.sha256.lower(), blob.size))
    assert re.fullmatch(r"[0-9a-f]{40}", entries[1]["oid"])
    no_xet(response)


def test_a_recursive_tree_lists_every_file_and_a_folder_its_own(client, hub):
    for flag in ("true", "True"):
        paths = [e["path"] for e in client.get(f"/api/models/{REPO}/tree/main?recursive={flag}").json()]
        assert paths == ["README.md", "images", "images/example.png", "tiny-watercolor-v2.safetensors"]
    images = client.get(f"/api/models/{REPO}/tree/main/images").json()
    assert [(e["path"], e["size"]) for e in images] == [("images/example.png", hub.image.blob.size)]
    assert_hub_error(client.get(f"/api/models/{REPO}/tree/main/nope"), 404, "EntryNotFound")
    assert_hub_error(client.get(f"/api/models/{REPO}/tree/main/../.."), 404, "EntryNotFound")


def test_expanded_tree_entries_name_their_last_commit(client, hub):
    entries = client.get(f"/api/models/{REPO}/tree/{hf_repos.commit_id(hub.v1)}?expand=true").json()
    assert {e["lastCommit"]["id"] for e in entries} == {hf_repos.commit_id(hub.v1)}
    assert all(Z_DATE.fullmatch(e["lastCommit"]["date"]) for e in entries)


def test_tree_pages_are_linked_with_link_next(client, hub, monkeypatch):
    monkeypatch.setattr(hf_api, "TREE_PAGE_SIZE", 3)
    first = client.get(f"/api/models/{REPO}/tree/main?recursive=true&expand=false")
    assert len(first.json()) == 3
    link = re.fullmatch(r'<(http://testserver/[^>]+)>; rel="next"', first["Link"])
    assert link, first["Link"]
    second = client.get(link.group(1))
    assert [e["path"] for e in second.json()] == ["tiny-watercolor-v2.safetensors"]
    assert "Link" not in second
    assert_hub_error(client.get(f"/api/models/{REPO}/tree/main?cursor=junk"), 400, None)


# --- HEAD|GET /<repo>/resolve/<rev>/<path>


def test_head_and_get_of_a_file_carry_what_the_client_needs(client, hub):
    blob = hub.v2_file.blob
    url = f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors"
    head = client.head(url, headers={"Accept-Encoding": "identity"})
    get = client.get(url, headers={"Accept-Encoding": "gzip"})  # never compressed anyway
    for response in (head, get):
        assert response.status_code == 200
        assert response["X-Repo-Commit"] == hf_repos.commit_id(hub.v2)
        assert response["ETag"] == f'"{blob.sha256.lower()}"'
        assert response["X-Linked-Size"] == response["Content-Length"] == str(blob.size)
        assert response["Accept-Ranges"] == "bytes"
        assert "Content-Encoding" not in response
        assert "Location" not in response
        no_xet(response)
    assert body_of(head) == b""
    data = body_of(get)
    assert hashlib.sha256(data).hexdigest() == blob.sha256.lower()


def test_a_range_gets_206_and_an_unsatisfiable_one_416(client, hub):
    blob = hub.v2_file.blob
    url = f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors"
    whole = body_of(client.get(url))
    part = client.get(url, headers={"Range": "bytes=100-"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-{blob.size - 1}/{blob.size}"
    assert part["Content-Length"] == str(blob.size - 100)
    assert part["X-Linked-Size"] == str(blob.size)
    assert body_of(part) == whole[100:]
    beyond = client.get(url, headers={"Range": f"bytes={blob.size}-"})
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{blob.size}"
    assert beyond["X-Repo-Commit"] == hf_repos.commit_id(hub.v2)
    other_bytes = client.get(url, headers={"Range": "bytes=100-", "If-Range": '"0000"'})
    assert other_bytes.status_code == 200 and body_of(other_bytes) == whole


def test_a_revision_serves_that_versions_files(client, hub):
    v1_sha = hub.v1_file.blob.sha256.lower()
    for revision in ("v1.0", hf_repos.commit_id(hub.v1)):
        response = client.get(f"/{REPO}/resolve/{revision}/tiny-watercolor.safetensors")
        assert response.status_code == 200
        assert response["X-Repo-Commit"] == hf_repos.commit_id(hub.v1)
        assert hashlib.sha256(body_of(response)).hexdigest() == v1_sha
    response = client.get(f"/{REPO}/resolve/main/tiny-watercolor.safetensors")  # only in v1.0
    assert_hub_error(response, 404, "EntryNotFound")


def test_a_missing_file_is_entry_not_found_and_names_the_commit(client, hub):
    for method in (client.head, client.get):
        response = method(f"/{REPO}/resolve/main/missing.bin")
        assert response.status_code == 404
        assert response["X-Error-Code"] == "EntryNotFound"
        assert response["X-Repo-Commit"] == hf_repos.commit_id(hub.v2)  # the client caches the miss


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/{REPO}/resolve/main/../README.md", "EntryNotFound"),
        (f"/{REPO}/resolve/main/%2e%2e/README.md", "EntryNotFound"),
        (f"/{REPO}/resolve/main/%2e%2e%2f%2e%2e%2fhub%2fsettings.py", "EntryNotFound"),
        (f"/{REPO}/resolve/main/images/../README.md", "EntryNotFound"),
        (f"/{REPO}/resolve/main//etc/passwd", "EntryNotFound"),
        (f"/{REPO}/resolve/main/images", "EntryNotFound"),
        (f"/{REPO}/resolve/refs%2Fpr%2F1/README.md", "RevisionNotFound"),
        (f"/{REPO}/resolve/..%2F..%2F/README.md", "RevisionNotFound"),
        (f"/{REPO}/resolve/%2e%2e/README.md", "RevisionNotFound"),
        ("/static/x/resolve/main/README.md", "RepoNotFound"),
        ("/models/1/resolve/main/README.md", "RepoNotFound"),
    ],
)
def test_path_junk_on_resolve_is_a_404_never_a_500(hub, path, code):
    response = Client(raise_request_exception=False).get(path)
    assert_hub_error(response, 404, code)


def test_other_junk_is_a_client_error_too(hub):
    client = Client(raise_request_exception=False)
    assert client.get(f"/{REPO}/resolve/main/%00").status_code == 400  # NUL: refused before any view
    assert client.get("/alice/..%2f../resolve/main/README.md").status_code == 404  # no route matches


def test_the_generated_model_card_is_served_with_its_git_id_as_etag(client, hub):
    response = client.get(f"/{REPO}/resolve/main/README.md")
    assert response.status_code == 200
    card = body_of(response)
    assert response["ETag"] == f'"{sha1_git(card)}"'
    assert response["Content-Length"] == response["X-Linked-Size"] == str(len(card))
    text = card.decode()
    assert text.startswith("---\ntags:\n")
    assert "# Tiny Watercolor" in text and "## Version v2.0" in text
    assert hub.v2_file.blob.sha256.lower() in text
    part = client.get(f"/{REPO}/resolve/main/README.md", headers={"Range": "bytes=4-"})
    assert part.status_code == 206 and body_of(part) == card[4:]
    # The same card on every request, so the tree's size and oid stay true.
    assert body_of(client.get(f"/{REPO}/resolve/main/README.md")) == card


def test_a_get_counts_a_download_and_a_head_or_the_card_does_not(client, hub):
    url = f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors"
    client.head(url)
    client.get(f"/{REPO}/resolve/main/README.md")
    client.get(f"/{REPO}/resolve/main/images/example.png")
    assert not DownloadRecord.objects.exists()
    client.get(url)
    client.get(url, headers={"Range": "bytes=10-"})  # a resume the same day counts once
    assert ModelVersion.objects.get(id=hub.v2.id).download_count == 1
    assert AIModel.objects.get(id=hub.model.id).download_count == 1


def test_model_file_gets_are_rate_limited_but_heads_and_images_are_not(client, hub, settings):
    settings.DOWNLOAD_RATE_LIMIT = 2
    url = f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors"
    for _ in range(3):
        assert client.head(url).status_code == 200
        assert client.get(f"/{REPO}/resolve/main/images/example.png").status_code == 200
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(url)["Retry-After"] == "60"


def test_early_access_and_login_required_are_gated_repos(client, hub, fan):
    url = "/alice/early-bird/resolve/main/early.safetensors"
    assert client.get("/api/models/alice/early-bird").json()["gated"] == "manual"
    assert_hub_error(client.head(url), 401, "GatedRepo")
    assert client.get("/alice/early-bird/resolve/main/README.md").status_code == 200  # the card stays open
    client.force_login(fan)
    assert_hub_error(client.get(url), 403, "GatedRepo")
    client.logout()
    client.force_login(hub.alice)
    assert client.get(url).status_code == 200

    client.logout()
    AIModel.objects.filter(id=hub.model.id).update(require_login=True)
    assert client.get(f"/api/models/{REPO}").json()["gated"] == "auto"
    assert_hub_error(client.head(f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors"), 401, "GatedRepo")
    client.force_login(fan)
    assert client.head(f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors").status_code == 200


def test_a_version_with_downloads_disabled_is_a_disabled_repo(client, hub):
    ModelVersion.objects.filter(id=hub.v2.id).update(usage_control=UsageControl.GENERATION)
    assert client.get(f"/api/models/{REPO}").json()["disabled"] is True
    response = client.get(f"/{REPO}/resolve/main/tiny-watercolor-v2.safetensors")
    assert response.status_code == 403
    assert response["X-Error-Message"] == "Access to this resource is disabled."


def test_hub_pages_are_not_shadowed_by_the_resolve_route(client, hub):
    assert client.get(hub.model.get_absolute_url()).status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    # A user whose name is a hub route has no repos, rather than repos that can't be downloaded.
    models_user = make_user("models")
    AIModel.objects.filter(id=hub.other.id).update(owner=models_user)
    assert_hub_error(client.get("/api/models/models/pastel-sketch"), 404, "RepoNotFound")


# --- GET /api/models


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()]


def test_list_models_is_a_json_array_of_published_repos(client, hub):
    response = client.get("/api/models")
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list)
    assert set(ids(response)) == {REPO, "alice/pastel-sketch", "bob/watercolor-dreams", "alice/early-bird"}
    for item in items:
        assert item["modelId"] == item["id"] and Z_DATE.fullmatch(item["createdAt"])
    assert "Link" not in response


def test_search_and_author_narrow_the_list(client, hub):
    assert set(ids(client.get("/api/models?search=watercolor"))) == {REPO, "bob/watercolor-dreams"}
    assert ids(client.get("/api/models?search=watercolor&author=alice")) == [REPO]
    assert ids(client.get("/api/models?search=pastel-sketch")) == ["alice/pastel-sketch"]
    assert ids(client.get("/api/models?search=alice/tiny")) == [REPO]  # a repo id's beginning
    assert ids(client.get("/api/models?search=bob/tiny")) == []
    assert ids(client.get("/api/models?search=bob/watercolor&author=alice")) == []
    assert ids(client.get("/api/models?search=nothing-like-it")) == []
    assert set(ids(client.get("/api/models?author=bob"))) == {"bob/watercolor-dreams"}


def test_pages_are_linked_until_the_last(client, hub, monkeypatch):
    monkeypatch.setattr(hf_api, "LIST_PAGE_SIZE", 2)
    url, seen, pages = "/api/models?author=alice&sort=createdAt", [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        pages += 1
        link = response.get("Link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None
        assert url is None or urlsplit(url).netloc == "testserver"  # absolute, as clients need
    assert pages == 2
    assert seen == ["alice/early-bird", "alice/pastel-sketch", REPO]  # newest first, each once


def test_limit_sets_the_page_size(client, hub):
    response = client.get("/api/models?limit=2")
    assert len(response.json()) == 2 and 'rel="next"' in response["Link"]
    assert "limit=2" in response["Link"]


def test_sort_by_downloads_and_by_likes(client, hub):
    AIModel.objects.filter(id=hub.bobs.id).update(download_count=50)
    AIModel.objects.filter(id=hub.other.id).update(download_count=10, like_count=99)
    assert ids(client.get("/api/models?sort=downloads"))[:2] == [
        "bob/watercolor-dreams",
        "alice/pastel-sketch",
    ]
    assert ids(client.get("/api/models?sort=likes"))[0] == "alice/pastel-sketch"
    assert ids(client.get("/api/models?sort=downloads&direction=-1"))[0] == "bob/watercolor-dreams"


def test_full_and_expand_add_what_the_main_revision_knows(client, hub):
    full = {item["id"]: item for item in client.get("/api/models?full=True&author=alice").json()}
    assert full[REPO]["sha"] == hf_repos.commit_id(hub.v2)
    assert "tiny-watercolor-v2.safetensors" in [s["rfilename"] for s in full[REPO]["siblings"]]
    expanded = client.get("/api/models?expand=sha&expand=likes&search=tiny").json()
    assert expanded == [{"id": REPO, "sha": hf_repos.commit_id(hub.v2), "likes": 0}]
    with_card = client.get("/api/models?cardData=true&search=tiny").json()
    assert with_card[0]["cardData"]["pipeline_tag"] == "text-to-image"


def test_filters_narrow_by_type_and_tag(client, hub):
    AIModel.objects.filter(id=hub.bobs.id).update(type="VAE")
    assert "bob/watercolor-dreams" not in ids(client.get("/api/models?filter=lora"))
    assert ids(client.get("/api/models?filter=vae")) == ["bob/watercolor-dreams"]
    assert ids(client.get("/api/models?filter=lora&filter=vae")) == []
    assert "bob/watercolor-dreams" not in ids(client.get("/api/models?pipeline_tag=text-to-image"))
    assert ids(client.get("/api/models?filter=no-such-tag")) == []


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=0", f"limit={10**9}", "limit=abc", "sort=bogus", "cursor=junk", "expand=nope",
     "filter=one&filter=two"],
)  # fmt: skip
def test_bad_list_parameters_are_a_400_with_a_reason(client, hub, query):
    response = client.get(f"/api/models?{query}")
    assert_hub_error(response, 400, None)


# --- refs, commits, paths-info


def test_refs_name_main_and_a_tag_per_version(client, hub):
    refs = client.get(f"/api/models/{REPO}/refs").json()
    assert refs["branches"] == [
        {"name": "main", "ref": "refs/heads/main", "targetCommit": hf_repos.commit_id(hub.v2)}
    ]
    assert {t["name"]: t["targetCommit"] for t in refs["tags"]} == {
        "v1.0": hf_repos.commit_id(hub.v1),
        "v2.0": hf_repos.commit_id(hub.v2),
    }
    assert refs["converts"] == []


def test_commits_are_the_versions_up_to_a_revision(client, hub):
    commits = client.get(f"/api/models/{REPO}/commits/main").json()
    assert [c["id"] for c in commits] == [hf_repos.commit_id(hub.v2), hf_repos.commit_id(hub.v1)]
    assert commits[0]["authors"] == [{"user": "alice"}] and Z_DATE.fullmatch(commits[0]["date"])
    assert [c["title"] for c in client.get(f"/api/models/{REPO}/commits/v1.0").json()] == ["v1.0"]


def test_paths_info_describes_the_paths_that_exist(client, hub):
    response = client.post(
        f"/api/models/{REPO}/paths-info/main",
        {"paths": ["README.md", "images", "nope", "../etc"], "expand": "False"},
    )
    assert [(e["type"], e["path"]) for e in response.json()] == [
        ("file", "README.md"),
        ("directory", "images"),
    ]


def test_whoami_names_the_owner_of_an_api_key_and_refuses_any_other(client, creator):
    key_row, key = ApiKey.create(user=creator, name="my laptop")
    response = client.get("/api/whoami-v2", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "alice" and body["type"] == "user" and body["orgs"] == []
    assert body["auth"]["accessToken"]["displayName"] == "my laptop"
    for headers in ({"HTTP_AUTHORIZATION": "Bearer hub_nope"}, {}):
        refused = client.get("/api/whoami-v2", **headers)
        assert refused.status_code == 401
        assert refused["X-Error-Message"] == "Invalid credentials in Authorization header"
    ApiKey.objects.filter(id=key_row.id).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/whoami-v2", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
