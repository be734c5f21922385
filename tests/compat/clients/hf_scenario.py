"""What a user of `huggingface_hub` does with a hub, run inside the client's own virtual environment
(tests/compat/clients/test_huggingface_hub.py). HF_ENDPOINT and HF_HOME come from the environment; argv[1]
is JSON naming the steps and the repos. Prints one JSON object with what the client returned.

Works with huggingface_hub 0.36.x and 1.x/2.x: only their public API is used.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import huggingface_hub
from huggingface_hub import HfApi, hf_hub_download, snapshot_download


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def error_of(call) -> list[str]:
    """The class names of the exception `call` raises (its whole hierarchy), or [] if none."""
    try:
        call()
    except Exception as exc:  # the test asserts which one
        return [cls.__name__ for cls in type(exc).__mro__]
    return []


def status_of(call) -> int | None:
    """The HTTP status of the error `call` raises (its `response`), or None."""
    try:
        call()
    except Exception as exc:  # the test asserts which one
        response = getattr(exc, "response", None)
        return getattr(response, "status_code", None)
    return None


def info_step(api: HfApi, a: dict) -> dict:
    info = api.model_info(a["repo"])
    by_commit = api.model_info(a["repo"], revision=info.sha)
    by_tag = api.model_info(a["repo"], revision=a["tag"]) if a.get("tag") else None
    with_blobs = api.model_info(a["repo"], files_metadata=True)
    return {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "sha_by_commit": by_commit.sha,
        "sha_by_tag": by_tag.sha if by_tag else None,
        "siblings": [s.rfilename for s in info.siblings],
        "last_modified": info.last_modified.isoformat(),
        "created_at": info.created_at.isoformat(),
        "tags": info.tags,
        "pipeline_tag": info.pipeline_tag,
        "lfs": {
            s.rfilename: {"sha256": s.lfs.sha256, "size": s.lfs.size} if s.lfs else None
            for s in with_blobs.siblings
        },
        "sizes": {s.rfilename: s.size for s in with_blobs.siblings},
    }


def files_step(api: HfApi, a: dict) -> dict:
    tree = api.list_repo_tree(a["repo"], recursive=True)
    return {
        "files": api.list_repo_files(a["repo"]),
        "tree": [
            {"path": e.path, "size": getattr(e, "size", None), "lfs": e.lfs.sha256 if e.lfs else None}
            for e in tree
            if hasattr(e, "blob_id")
        ],
    }


def download_step(api: HfApi, a: dict) -> dict:
    path = hf_hub_download(a["repo"], a["filename"])
    again = hf_hub_download(a["repo"], a["filename"])  # from the cache this time
    readme = hf_hub_download(a["repo"], "README.md", revision=a.get("tag") or "main")
    return {
        "sha256": sha256_of(path),
        "size": os.path.getsize(path),
        "same_path_again": again == path,
        "readme": Path(readme).read_text(encoding="utf-8"),
    }


def snapshot_step(api: HfApi, a: dict) -> dict:
    folder = Path(snapshot_download(a["repo"]))
    return {
        "folder_name": folder.name,
        "files": {str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()},
    }


def list_step(api: HfApi, a: dict) -> dict:
    return {
        "search": [m.id for m in api.list_models(search=a["search"], author=a["author"], limit=10)],
        "author_all": [m.id for m in api.list_models(author=a["author"])],
        "limited": [m.id for m in api.list_models(author=a["author"], sort="downloads", limit=2)],
        "full": [
            {"id": m.id, "sha": m.sha, "siblings": [s.rfilename for s in m.siblings or []]}
            for m in api.list_models(author=a["author"], full=True, limit=1)
        ],
    }


def errors_step(api: HfApi, a: dict) -> dict:
    return {
        "unknown_repo": error_of(lambda: api.model_info(a["missing_repo"])),
        "unknown_revision": error_of(lambda: api.model_info(a["repo"], revision="no-such-tag")),
        "pr_revision": error_of(lambda: api.model_info(a["repo"], revision="refs/pr/1")),
        "missing_file": error_of(lambda: hf_hub_download(a["repo"], "missing.safetensors")),
        "draft_file": error_of(lambda: hf_hub_download(a["draft_repo"], a["filename"])),
        "gated_file": error_of(lambda: hf_hub_download(a["gated_repo"], a["gated_filename"])),
        "gated_card": sha256_of(hf_hub_download(a["gated_repo"], "README.md")),
    }


def unpublished_step(api: HfApi, a: dict) -> dict:
    """A model its creator unpublished: gone from the list, and its repo is not found."""
    return {
        "author_all": [m.id for m in api.list_models(author=a["author"])],
        "info": error_of(lambda: api.model_info(a["unpublished_repo"])),
    }


def private_step(api: HfApi, a: dict) -> dict:
    """With HF_TOKEN set to the creator's hub API key: their draft, which nobody else can see."""
    info = api.model_info(a["draft_repo"])
    path = hf_hub_download(a["draft_repo"], a["filename"])
    return {"private": info.private, "sha": info.sha, "sha256": sha256_of(path)}


def resume_step(api: HfApi, a: dict) -> dict:
    """huggingface_hub 0.36 resumes from blobs/<etag>.incomplete with `Range: bytes=N-`. The part
    already there is the file's true beginning; the log of responses shows what the server sent."""
    import requests

    log = []

    def session():
        s = requests.Session()
        s.hooks["response"].append(
            lambda r, *args, **kwargs: log.append(
                {"method": r.request.method, "status": r.status_code, "range": r.request.headers.get("Range")}
            )
        )
        return s

    huggingface_hub.configure_http_backend(backend_factory=session)
    blobs = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + a["repo"].replace("/", "--")) / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / f"{a['sha256']}.incomplete").write_bytes(bytes.fromhex(a["prefix_hex"]))
    path = hf_hub_download(a["repo"], a["filename"])
    return {"sha256": sha256_of(path), "size": os.path.getsize(path), "log": log}


def whoami_step(api: HfApi, a: dict) -> dict:
    """`HfApi().whoami()` with a good and a bad key, then `hf auth login --token` (the CLI, which
    validates the key with whoami and stores it) and `hf auth whoami`, which reads the stored key."""
    import subprocess

    me = api.whoami(token=a["good_token"])
    hf = Path(sys.executable).with_name("hf")
    env = {**os.environ, "NO_COLOR": "1"}
    login = subprocess.run(
        [str(hf), "auth", "login", "--token", a["good_token"]], capture_output=True, text=True, env=env
    )
    who = subprocess.run([str(hf), "auth", "whoami"], capture_output=True, text=True, env=env)
    return {
        "name": me["name"],
        "type": me["type"],
        "token_name": me["auth"]["accessToken"]["displayName"],
        "bad": error_of(lambda: api.whoami(token=a["bad_token"])),
        "bad_status": status_of(lambda: api.whoami(token=a["bad_token"])),
        "login_exit": login.returncode,
        "login_output": login.stdout + login.stderr,
        "stored_token": huggingface_hub.get_token() == a["good_token"],
        "whoami_cli_exit": who.returncode,
        "whoami_cli_output": who.stdout + who.stderr,
    }


STEPS = {
    "info": info_step,
    "files": files_step,
    "download": download_step,
    "snapshot": snapshot_step,
    "list": list_step,
    "errors": errors_step,
    "private": private_step,
    "unpublished": unpublished_step,
    "resume": resume_step,
    "whoami": whoami_step,
}


def main() -> None:
    args = json.loads(sys.argv[1])
    api = HfApi()
    result = {"version": huggingface_hub.__version__, "endpoint": api.endpoint}
    for step in args["steps"]:
        result[step] = STEPS[step](api, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
