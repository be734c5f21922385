"""The Hugging Face Hub read API, so `huggingface_hub` works with HF_ENDPOINT=<hub url> (docs/hf-api.md).
Thin views: repos.py maps models and versions to repos and commits; the visibility rules,
download gates, counting and byte serving are the hub's own (selectors, downloads, download_views).

Every error is JSON `{"error": ...}` with the X-Error-Code / X-Error-Message headers the client turns
into its exceptions. Nothing here ever mentions Xet: the client then downloads over plain HTTP.
"""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from community.auth import active_api_key, api_key_from_request
from models_app import downloads, preferences, selectors
from models_app.dates import iso_z
from models_app.download_views import BadApiKey, blob_response, caller, over_rate_limit, ranged_response
from models_app.levels import is_mature
from models_app.models import AIModel, ModelType, ModelVersion

from . import repos
from .repos import HubError

MAX_LIST_LIMIT = 1000  # what a client may ask for
LIST_PAGE_SIZE = selectors.MAX_PAGE_SIZE  # models per page; the client follows Link up to its limit
SEARCH_MATCHES = 1000  # the search matches a listing pages through
TREE_PAGE_SIZE = 1000  # entries per page of /tree, as on the Hub
TREE_PAGE_SIZE_EXPANDED = 50

# The Hub's `sort` values and the hub's own sort each maps to (selectors.SORTS). The hub keeps no
# trending score; the most downloaded models stand in for it, and it is the default.
SORTS = {
    "downloads": "downloads",
    "likes": "liked",
    "lastModified": "newest",
    "createdAt": "newest",
    "trendingScore": "downloads",
    "last_modified": "newest",
    "created_at": "newest",
    "trending_score": "downloads",
}
# Properties the Hub accepts in `expand` (huggingface_hub's ExpandModelProperty_T, 0.36 and 2.x).
# The hub answers those it has and leaves out the rest; anything else is a 400, as on the Hub.
EXPAND_PROPERTIES = frozenset(
    {
        "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled",
        "downloads", "downloadsAllTime", "evalResults", "gated", "gguf", "inference",
        "inferenceProviderMapping", "lastModified", "library_name", "likes", "mask_token",
        "model-index", "pipeline_tag", "private", "resourceGroup", "safetensors", "sha", "siblings",
        "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage", "widgetData", "xetEnabled",
    }
)  # fmt: skip
# Expanded properties that need the repo's main revision (its files, its dates).
NEEDS_REVISION = frozenset(
    {"sha", "lastModified", "siblings", "gated", "disabled", "usedStorage", "cardData"}
)
EXPOSED_HEADERS = (
    "X-Repo-Commit, X-Linked-Size, X-Linked-Etag, X-Error-Code, X-Error-Message, ETag, Link, "
    "Content-Range, Accept-Ranges"
)


class BadRequest(Exception):
    pass


def _flag(request, name: str) -> bool:
    """Booleans arrive as true or True (0.36 sends Python's spelling); 1 works too."""
    return request.GET.get(name, "").strip().lower() in ("true", "1")


def _listed(request, name: str) -> list[str]:
    """A parameter given repeated (`expand=a&expand=b`, `expand[]=a`) or comma-joined."""
    raw = request.GET.getlist(name) + request.GET.getlist(f"{name}[]")
    return [v.strip() for value in raw for v in value.split(",") if v.strip()]


def _expand(request) -> list[str]:
    expand = _listed(request, "expand")
    unknown = [e for e in expand if e not in EXPAND_PROPERTIES]
    if unknown:
        raise BadRequest(f"Unknown expand property {unknown[0]!r}.")
    return expand


def _with_hub_headers(response):
    # Browser clients (huggingface.js) read these across origins; nothing here uses cookies for CORS.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _json(body, status: int = 200):
    return _with_hub_headers(JsonResponse(body, status=status, safe=False))


def _error(exc: HubError):
    response = _json({"error": exc.message}, exc.status)
    response["X-Error-Message"] = exc.message
    if exc.code:
        response["X-Error-Code"] = exc.code
    if exc.commit:
        response["X-Repo-Commit"] = exc.commit  # a missing file is cached by commit (docs/hf-api.md#errors)
    return response


def _bad_request(message: str):
    return _error(HubError(400, message))


def _user(request):
    """The session or API-key user. A key that matches nothing is a 401 here, as on the Hub, with
    the message the client shows as such (docs/hf-api.md#errors)."""
    try:
        return caller(request)
    except BadApiKey:
        raise HubError(401, "Invalid credentials in Authorization header") from None


def _next_link(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params[key] = value
    return f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'


# --- JSON shapes (docs/hf-api.md#json).


def _sibling(f: repos.RepoFile, *, blobs: bool) -> dict:
    sibling = {"rfilename": f.path}
    if blobs:
        sibling["size"] = f.size
        sibling["blobId"] = f.oid
        if f.sha256:
            sibling["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": f.pointer_size}
    return sibling


def _info_json(model: AIModel, version: ModelVersion, files, *, blobs: bool = False) -> dict:
    repo = repos.repo_id(model)
    return {
        "id": repo,
        "modelId": repo,
        "author": model.owner.username,
        "sha": repos.commit_id(version),
        "lastModified": iso_z(version.published_at or version.created_at),
        "createdAt": iso_z(model.published_at or model.created_at),
        "private": not model.is_published,
        "gated": repos.gated(version),
        "disabled": repos.disabled(version),
        "downloads": model.download_count,
        "downloadsAllTime": model.download_count,
        "likes": model.like_count,
        "tags": repos.version_tags(version, files),
        "pipeline_tag": repos.PIPELINES.get(model.type),
        "library_name": None,
        "cardData": repos.card_data(version, files),
        "siblings": [_sibling(f, blobs=blobs) for f in files],
        "usedStorage": sum(f.size for f in files),
    }


def _expanded(info: dict, expand: list[str]) -> dict:
    """Only the asked-for properties, as the Hub answers an `expand` request."""
    return {"id": info["id"], **{key: info[key] for key in expand if key in info}}


# What the list reads of each model, as JSON the database builds (selectors.browse_items_sql): the
# ORM's compiling and row conversion cost more than the page's query (docs/performance.md).
_CARD_FIELDS = (
    ("repo", "{user} || '/' || {m}.slug", ""), ("author", "{user}", ""),
    ("likes", "{m}.like_count", ""), ("downloads", "{m}.download_count", ""), ("type", "{m}.type", ""),
    ("tag_names", "{m}.tag_names", "json"), ("nsfw_level", "{m}.nsfw_level", ""),
    ("createdAt", "{m}.published_at", "iso_z"),
)  # fmt: skip


def _card_json(row: dict) -> dict:
    """A list item from a row of _CARD_FIELDS (the model's `id` added)."""
    return {
        "id": row["repo"],
        "modelId": row["repo"],
        "author": row["author"],
        "likes": row["likes"],
        "downloads": row["downloads"],
        "tags": repos.repo_tags(row["type"], row["tag_names"] or [], nsfw=is_mature(row["nsfw_level"])),
        "pipeline_tag": repos.PIPELINES.get(row["type"]),
        "library_name": None,
        "createdAt": row["createdAt"],
        "private": False,
    }


def _card_rows(user, query: selectors.BrowseQuery) -> tuple[list[dict], str | None]:
    """One page of the list as rows of _CARD_FIELDS with `id`, and the next page's cursor: one query."""
    rows, next_cursor = selectors.browse_items_sql(user, query, _CARD_FIELDS)
    return [{**json.loads(item), "id": model_id} for model_id, _, item in rows], next_cursor


def _last_commit(version: ModelVersion) -> dict:
    return {
        "id": repos.commit_id(version),
        "title": version.name,
        "date": iso_z(version.published_at or version.created_at),
    }


def _tree_entry(version: ModelVersion, path: str, f: repos.RepoFile | None, *, expand: bool) -> dict:
    if f is None:
        entry = {"type": "directory", "oid": repos.tree_oid(version, path), "size": 0, "path": path}
    else:
        entry = {"type": "file", "oid": f.oid, "size": f.size, "path": path}
        if f.sha256:
            entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
    if expand:
        entry["lastCommit"] = _last_commit(version)
    return entry


# --- GET /api/models


def _list_query(request, user) -> selectors.BrowseQuery:
    """The hub's browse query for the Hub's list parameters; raises BadRequest."""
    try:
        limit = int(request.GET.get("limit", LIST_PAGE_SIZE))
    except ValueError:
        raise BadRequest("limit must be a whole number.") from None
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIST_LIMIT}.")
    sort = request.GET.get("sort", "trendingScore")
    if sort not in SORTS:
        raise BadRequest(
            f"Unknown sort {sort!r}; use one of downloads, likes, lastModified, createdAt, trendingScore."
        )
    query = selectors.BrowseQuery(
        sort=SORTS[sort],
        limit=min(limit, LIST_PAGE_SIZE),
        cursor=request.GET.get("cursor", ""),
        creator=request.GET.get("author", "").strip()[:150],
        # The Hub's API has no such parameter: the levels of the key's (or session's) user, else PG.
        levels=preferences.mask_of(user),
    )
    search, other_author = request.GET.get("search", "").strip(), False
    if "/" in search:  # a repo id, or its beginning: the part before the slash is the author
        namespace, _, search = search.partition("/")
        other_author = bool(query.creator) and query.creator != namespace
        query.creator = namespace
    if search:
        words = search.replace("-", " ").replace("_", " ")
        query.ids = [
            card.id
            for card in selectors.search_models(user, words, limit=SEARCH_MATCHES, levels=query.levels)
        ]
    if other_author:
        query.ids = []  # search=bob/x&author=alice: nothing matches both
    _apply_filters(query, _listed(request, "filter") + _listed(request, "pipeline_tag"))
    return query


def _apply_filters(query: selectors.BrowseQuery, filters: list[str]) -> None:
    """The Hub's `filter` tags: a model type ("lora"), a pipeline ("text-to-image"), "safetensors",
    or one of the hub's tags. Several narrow the list down together."""
    types = set(ModelType.values)
    for value in filters:
        lowered = value.lower()
        of_type = {t for t in ModelType.values if lowered in (t.lower(), repos.TYPE_TAGS[t])}
        of_pipeline = {t for t, pipeline in repos.PIPELINES.items() if pipeline == lowered}
        if lowered == "safetensors":
            query.safetensors_only = True
        elif of_type or of_pipeline:
            types &= of_type or of_pipeline
        elif query.tag and query.tag != lowered[:60]:
            raise BadRequest("filter takes one tag at most, besides model types, pipelines and safetensors.")
        else:
            query.tag = lowered[:60]
    if not types:
        query.ids = []  # e.g. filter=lora&filter=vae: nothing is both
    elif types != set(ModelType.values):
        query.types = sorted(types)


def _rich_items(rows: list[dict], *, full: bool, expand: list[str]) -> list[dict]:
    """List items with what only the main revision knows (sha, siblings, ...): at most five queries
    a page whatever its number of models, versions, files and example images."""
    ids = [row["id"] for row in rows]
    models = {m.id: m for m in AIModel.objects.filter(id__in=ids).select_related("owner")}
    versions = repos.main_versions(ids)
    stored = repos.stored_files_by_version(list(versions.values()))
    # The example images of every version at once, not one query per repo_files.
    served = repos.served_images([f for files in stored.values() for f in files])
    items = []
    for row in rows:
        model, version = models.get(row["id"]), versions.get(row["id"])
        if model is None or version is None:
            continue
        version.model = model
        info = _info_json(model, version, repos.repo_files(version, stored[version.id], served))
        if expand:
            items.append(_expanded(info, expand))
        elif full:
            items.append(info)
        else:
            items.append({**_card_json(row), "cardData": info["cardData"]})
    return items


@require_http_methods(["GET", "HEAD"])
def list_models(request):
    """Published models as a JSON array, one page at a time; `Link: <...>; rel="next"` names the
    next page, which the client follows until it has `limit` models (docs/hf-api.md#requests)."""
    try:
        user = _user(request)
        query = _list_query(request, user)
        expand = _expand(request)
        rows, next_cursor = _card_rows(user, query)
    except HubError as exc:
        return _error(exc)
    except (BadRequest, selectors.BadQuery) as exc:
        return _bad_request(str(exc))
    full, card_data = _flag(request, "full"), _flag(request, "cardData")
    if full or card_data or NEEDS_REVISION & set(expand):
        items = _rich_items(rows, full=full, expand=expand)
    elif expand:
        items = [_expanded(_card_json(row), expand) for row in rows]
    else:
        items = [_card_json(row) for row in rows]
    response = _json(items)
    if next_cursor:
        response["Link"] = _next_link(request, cursor=next_cursor)
    return response


# --- GET /api/models/<repo>[/revision/<rev>]


@require_http_methods(["GET", "HEAD"])
def model_info(request, namespace: str, name: str, revision: str = "main"):
    """The repo at a revision (main by default): its commit id, dates, tags and files."""
    try:
        expand = _expand(request)
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
        version = repos.resolve_revision(user, model, revision)
    except HubError as exc:
        return _error(exc)
    except BadRequest as exc:
        return _bad_request(str(exc))
    info = _info_json(model, version, repos.repo_files(version), blobs=_flag(request, "blobs"))
    if _flag(request, "securityStatus"):
        # Only files that passed every scan are ever served (downloads.DOWNLOADABLE).
        info["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
    return _json(_expanded(info, expand) if expand else info)


# --- GET /api/models/<repo>/tree/<rev>[/<path>]


@require_http_methods(["GET", "HEAD"])
def repo_tree(request, namespace: str, name: str, revision: str, path: str = ""):
    """The files and folders of a revision, paged by `Link rel="next"` like the Hub's."""
    expand = _flag(request, "expand")
    page_size = TREE_PAGE_SIZE_EXPANDED if expand else TREE_PAGE_SIZE
    try:
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
        version = repos.resolve_revision(user, model, revision)
        path = path.strip("/")
        entries = repos.tree(repos.repo_files(version), path, recursive=_flag(request, "recursive"))
        if entries is None:
            raise repos.entry_not_found(path, repos.commit_id(version))
        cursor = request.GET.get("cursor", "0")
        if not cursor.isdigit() or len(cursor) > 9 or int(cursor) > len(entries):
            raise BadRequest("The cursor is malformed; start again from the first page.")
    except HubError as exc:
        return _error(exc)
    except BadRequest as exc:
        return _bad_request(str(exc))
    start = int(cursor)
    page = entries[start : start + page_size]
    response = _json([_tree_entry(version, p, f, expand=expand) for p, f in page])
    if start + page_size < len(entries):
        response["Link"] = _next_link(request, cursor=str(start + page_size))
    return response


# --- POST /api/models/<repo>/paths-info/<rev>


@csrf_exempt  # a read with a form body; no cookie-authenticated state changes
@require_http_methods(["POST"])
def paths_info(request, namespace: str, name: str, revision: str):
    """The entries of the given paths (files or folders); paths that don't exist are left out."""
    try:
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
        version = repos.resolve_revision(user, model, revision)
    except HubError as exc:
        return _error(exc)
    wanted = [p.strip("/") for p in request.POST.getlist("paths")[:1000]]
    expand = request.POST.get("expand", "").lower() in ("true", "1")
    files = repos.repo_files(version)
    by_path: dict[str, repos.RepoFile | None] = {f.path: f for f in files}
    by_path.update(dict.fromkeys(repos.directories(files)))
    return _json(
        [_tree_entry(version, p, by_path[p], expand=expand) for p in dict.fromkeys(wanted) if p in by_path]
    )


# --- GET /api/models/<repo>/refs and /commits/<rev>


@require_http_methods(["GET", "HEAD"])
def repo_refs(request, namespace: str, name: str):
    """`main`, and a tag for every version whose name is a safe ref name."""
    try:
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
    except HubError as exc:
        return _error(exc)
    versions = list(selectors.visible_versions(user, model))
    main = repos.main_version(versions)
    branches = []
    if main is not None:
        branches.append({"name": "main", "ref": "refs/heads/main", "targetCommit": repos.commit_id(main)})
    tags = [
        {"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": repos.commit_id(v)}
        for v in versions
        if (tag := repos.tag_name(v))
    ]
    body = {"branches": branches, "converts": [], "tags": tags}
    if request.GET.get("include_prs"):
        body["pullRequests"] = []
    return _json(body)


@require_http_methods(["GET", "HEAD"])
def repo_commits(request, namespace: str, name: str, revision: str):
    """The history up to a revision: that version and the older ones, newest first."""
    try:
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
        version = repos.resolve_revision(user, model, revision)
    except HubError as exc:
        return _error(exc)

    def when(v):
        return (v.published_at or v.created_at, v.id)

    history = [v for v in selectors.visible_versions(user, model) if when(v) <= when(version)]
    return _json(
        [
            {
                **_last_commit(v),
                "message": v.description,
                "authors": [{"user": model.owner.username}],
            }
            for v in sorted(history, key=when, reverse=True)
        ]
    )


# --- HEAD|GET /<repo>/resolve/<rev>/<path>


@require_http_methods(["GET", "HEAD"])
def resolve_file(request, namespace: str, name: str, revision: str, filename: str):
    """A file of a revision: 200 to HEAD and GET (206 for a range), with X-Repo-Commit,
    `ETag: "<sha256>"`, X-Linked-Size and an exact Content-Length (docs/hf-api.md#resolve). Model files pass the
    download gates, and a GET of one counts as a download like /api/download/models does."""
    try:
        user = _user(request)
        model = repos.find_repo(user, namespace, name)
        version = repos.resolve_revision(user, model, revision)
        commit = repos.commit_id(version)
        repo_file = repos.find_file(repos.repo_files(version), filename, commit)
        if repo_file.model_file is not None:
            repos.check_file_access(user, version, commit)
    except HubError as exc:
        return _error(exc)
    headers = {
        "Content-Disposition": downloads.content_disposition(repo_file.path.rsplit("/", 1)[-1]),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        "X-Repo-Commit": commit,
        "X-Linked-Size": str(repo_file.size),
    }
    if repo_file.model_file is None:  # the generated model card
        content = repo_file.content
        response = ranged_response(
            request,
            size=repo_file.size,
            etag=repo_file.etag,
            headers={**headers, "Content-Type": "text/markdown; charset=utf-8"},
            read_range=lambda start, length: iter([content[start : start + length]]),
        )
        return _with_hub_headers(response)
    # A GET of a model file is a download: limited and counted like /api/download/models. A HEAD
    # only asks about the file, and example images are not downloads (a snapshot fetches them all).
    if request.method == "GET" and repo_file.counts_as_download:
        visitor = downloads.visitor_for(user=user, address=request.META.get("REMOTE_ADDR"))
        if over_rate_limit(visitor):
            response = _error(HubError(429, "Too many downloads in a minute; try again shortly."))
            response["Retry-After"] = "60"
            return response
        downloads.record_download(version=version, visitor=visitor)
    headers["Content-Type"] = "application/octet-stream"
    return _with_hub_headers(blob_response(request, repo_file.blob or repo_file.model_file.blob, headers))


# --- GET /api/whoami-v2


@require_http_methods(["GET", "HEAD"])
def whoami(request):
    """Who an API key (sent as the Hub's token) belongs to: `hf auth login --token`, `HfApi().whoami()`
    and `hf auth whoami` ask this (docs/hf-api.md#whoami). A key that matches nothing is a 401."""
    raw = api_key_from_request(request)
    if raw is None or not raw.strip():
        return _error(HubError(401, "Invalid credentials in Authorization header"))
    key = active_api_key(raw)
    if key is None:
        return _error(HubError(401, "Invalid credentials in Authorization header"))
    user = key.user
    return _json(
        {
            "type": "user",
            "id": str(user.id),
            "name": user.username,
            "fullname": user.get_full_name() or user.username,
            "isPro": False,
            "canPay": False,
            "orgs": [],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": key.name,
                    # The Hub's API here is read-only (no uploads), whatever else the key may do.
                    "role": "read",
                    "createdAt": iso_z(key.created_at),
                },
            },
        }
    )
