"""Proof that the real `huggingface_hub` works with HF_ENDPOINT pointing at the hub (issue 6, part B).

The client is installed unmodified from the package index into its own virtual environment (cached
under var/client-venvs/), for the latest release and for 0.36.x, whose redirect and resume handling
differ (docs/hf-api.md#client-versions). tests/compat/clients/hf_scenario.py then uses it against a live server seeded with
tests/compat/hf/catalog.py. Nothing in the client's environment is turned off: a fresh HF_HOME, no token,
and Xet left installed; the hub simply never advertises Xet.
"""

import hashlib
from pathlib import Path

import pytest

from community.models import ApiKey
from compat.hf import repos as hf_repos
from compat.hf import views as hf_api
from models_app import services
from models_app.models import ModelVersion
from models_app.storage import model_storage
from tests.compat.hf.catalog import seed

from ._hf_live import client_env, client_python, run_client

pytestmark = pytest.mark.django_db(transaction=True)

SCENARIO = Path(__file__).with_name("hf_scenario.py")
CLIENTS = {
    "latest": ("huggingface-hub-latest", "huggingface_hub"),
    "0.36": ("huggingface-hub-0.36", "huggingface_hub>=0.36,<0.37"),
}
REPO = "alice/tiny-watercolor"


@pytest.fixture(params=sorted(CLIENTS), scope="module")
def hf_python(request):
    name, requirement = CLIENTS[request.param]
    return request.param, client_python(name, requirement)


@pytest.fixture(scope="module")
def hf_python_036():
    return client_python(*CLIENTS["0.36"])


@pytest.fixture
def hub(creator, fan, base_models):
    return seed(creator, fan)


def scenario_runner(python, live_server, tmp_path):
    def run(steps, token=None, **args):
        env = client_env(tmp_path, HF_ENDPOINT=live_server.url, **({"HF_TOKEN": token} if token else {}))
        return run_client(python, SCENARIO, {"steps": steps, **args}, env)

    return run


@pytest.fixture
def scenario(hf_python, live_server, tmp_path):
    """Run steps of hf_scenario.py with each client against the live hub."""
    return scenario_runner(hf_python[1], live_server, tmp_path)


def sha(model_file) -> str:
    return model_file.blob.sha256.lower()


def test_model_info_and_file_lists_match_the_catalog(scenario, hub, hf_python):
    result = scenario(["info", "files"], repo=REPO, tag="v1.0")
    if hf_python[0] == "0.36":
        assert result["version"].startswith("0.36.")
    info = result["info"]
    main, v1 = hf_repos.commit_id(hub.v2), hf_repos.commit_id(hub.v1)
    assert info["id"] == REPO and info["author"] == "alice"
    assert info["sha"] == info["sha_by_commit"] == main
    assert info["sha_by_tag"] == v1
    expected = ["README.md", "images/example.png", "tiny-watercolor-v2.safetensors"]
    assert info["siblings"] == expected
    assert info["lfs"]["tiny-watercolor-v2.safetensors"] == {
        "sha256": sha(hub.v2_file),
        "size": hub.v2_file.blob.size,
    }
    assert info["lfs"]["README.md"] is None
    assert info["pipeline_tag"] == "text-to-image" and "lora" in info["tags"]
    assert info["last_modified"].endswith("+00:00")  # the client parsed our ...Z dates
    assert sorted(result["files"]["files"]) == expected
    tree = {e["path"]: e for e in result["files"]["tree"]}
    assert tree["images/example.png"] == {
        "path": "images/example.png",
        "size": hub.image.blob.size,
        "lfs": sha(hub.image),
    }


def test_hf_hub_download_gets_the_stored_bytes(scenario, hub):
    result = scenario(["download"], repo=REPO, filename="tiny-watercolor-v2.safetensors", tag="v1.0")[
        "download"
    ]
    assert result["sha256"] == sha(hub.v2_file)
    assert result["size"] == hub.v2_file.blob.size
    assert result["same_path_again"]
    assert "# Tiny Watercolor" in result["readme"] and "## Version v1.0" in result["readme"]
    assert ModelVersion.objects.get(id=hub.v2.id).download_count == 1  # counted once, on the GET


def test_snapshot_download_gets_every_file_of_main(scenario, hub, client):
    result = scenario(["snapshot"], repo=REPO)["snapshot"]
    assert result["folder_name"] == hf_repos.commit_id(hub.v2)
    card = client.get(f"/{REPO}/resolve/main/README.md").getvalue()
    assert result["files"] == {
        "README.md": hashlib.sha256(card).hexdigest(),
        "images/example.png": sha(hub.image),
        "tiny-watercolor-v2.safetensors": sha(hub.v2_file),
    }


def test_list_models_searches_filters_by_author_and_follows_pages(scenario, hub, monkeypatch):
    monkeypatch.setattr(hf_api, "LIST_PAGE_SIZE", 1)  # every model on its own page: Link is followed
    result = scenario(["list"], search="watercolor", author="alice")["list"]
    assert result["search"] == [REPO]
    assert sorted(result["author_all"]) == ["alice/early-bird", "alice/pastel-sketch", REPO]
    assert len(result["limited"]) == 2
    assert len(result["full"]) == 1 and result["full"][0]["sha"]
    assert "README.md" in result["full"][0]["siblings"]


def test_errors_reach_the_client_as_its_own_exceptions(scenario, hub):
    errors = scenario(
        ["errors"],
        repo=REPO,
        missing_repo="alice/no-such-model",
        draft_repo="alice/secret-draft",
        gated_repo="alice/early-bird",
        gated_filename="early.safetensors",
        filename="tiny.safetensors",
    )["errors"]
    assert "RepositoryNotFoundError" in errors["unknown_repo"]
    assert "RevisionNotFoundError" in errors["unknown_revision"]
    assert "RevisionNotFoundError" in errors["pr_revision"]
    assert "EntryNotFoundError" in errors["missing_file"]
    assert "RepositoryNotFoundError" in errors["draft_file"]
    assert "GatedRepoError" in errors["gated_file"]
    assert len(errors["gated_card"]) == 64  # the model card of a gated repo stays readable


def test_an_unpublished_model_leaves_list_models_and_is_repository_not_found(scenario, hub):
    services.unpublish_model(model=hub.other, by=hub.alice)

    result = scenario(["unpublished"], author="alice", unpublished_repo="alice/pastel-sketch")["unpublished"]

    assert sorted(result["author_all"]) == ["alice/early-bird", REPO]
    assert "RepositoryNotFoundError" in result["info"]


def test_a_creator_reads_their_draft_with_an_api_key_as_hf_token(scenario, hub):
    _, key = ApiKey.create(user=hub.alice, name="huggingface_hub")
    draft_file = hub.draft.versions.get().files.select_related("blob").get()
    result = scenario(["private"], token=key, draft_repo="alice/secret-draft", filename="tiny.safetensors")
    assert result["private"] == {
        "private": True,
        "sha": hf_repos.commit_id(hub.draft.versions.get()),
        "sha256": sha(draft_file),
    }


def test_whoami_and_hf_auth_login_with_an_api_key(scenario, hub):
    _, key = ApiKey.create(user=hub.alice, name="my laptop")
    result = scenario(["whoami"], good_token=key, bad_token="hub_not-a-key")["whoami"]
    assert (result["name"], result["type"], result["token_name"]) == ("alice", "user", "my laptop")
    # The client's "Invalid user token." (HfHubHTTPError; 0.36: requests' HTTPError) for a 401.
    assert "HTTPError" in result["bad"] and result["bad_status"] == 401
    assert result["login_exit"] == 0, result["login_output"]
    assert result["stored_token"]
    assert result["whoami_cli_exit"] == 0 and "alice" in result["whoami_cli_output"], result


def test_0_36_resumes_an_interrupted_download_with_a_range(hf_python_036, live_server, tmp_path, hub):
    """0.36 resumes across runs from blobs/<etag>.incomplete (1.x and later only retry within one
    process, docs/hf-api.md#client-versions). The part already there is the file's true beginning."""
    with model_storage().open(hub.v2_file.blob.storage_key) as f:
        data = f.read()
    half = len(data) // 2
    result = scenario_runner(hf_python_036, live_server, tmp_path)(
        ["resume"],
        repo=REPO,
        filename="tiny-watercolor-v2.safetensors",
        sha256=sha(hub.v2_file),
        prefix_hex=data[:half].hex(),
    )["resume"]
    assert result["sha256"] == sha(hub.v2_file)
    gets = [entry for entry in result["log"] if entry["method"] == "GET"]
    assert gets == [{"method": "GET", "status": 206, "range": f"bytes={half}-"}]
