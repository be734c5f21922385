"""The download endpoint and the signed file URL behind it (docs/downloads.md); lookup by hash is in
compat/civitai/views.py.

Every answer is JSON or file bytes, never an HTML page: the callers are download tools.
"""

import re
import socket

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods

from . import downloads, rate_limits, storage
from .models import ModelFile, ModelVersion
from .storage import RangeReader

MAX_ID = 2**63 - 1  # larger ids can't be in the table, and SQLite refuses to bind them
STREAM_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
NO_STORE = "no-store, max-age=0"


class HttpResponseTemporaryRedirect(HttpResponseRedirectBase):
    """307: clients keep the method, and some fail on a 200 where they expect a redirect."""

    status_code = 307


class BadApiKey(Exception):
    pass


def caller(request):
    """The session user, else the API key's user, else anonymous. Raises BadApiKey when a key was
    given but matches no active key."""
    if request.user.is_authenticated:
        return request.user
    key_given, user = import_string(settings.API_KEY_RESOLVER)(request)
    if not key_given:
        return request.user
    if user is None:
        raise BadApiKey
    return user


def public_user(request):
    """The caller on a public URL: there a key that matches nothing means anonymous (docs/civitai-api.md#rules-for-every-endpoint)."""
    try:
        return caller(request)
    except BadApiKey:
        return request.user


def json_response(body: dict, status: int, **headers) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


# --- GET|HEAD /api/download/models/<version_id>


def _wants_html(request) -> bool:
    """A person in a browser (navigations send Accept: text/html) rather than a tool (*/* or none)."""
    return "text/html" in request.headers.get("Accept", "")


def over_rate_limit(visitor: str) -> bool:
    """More than DOWNLOAD_RATE_LIMIT download requests this minute by this visitor (docs/downloads.md, step 1)."""
    return rate_limits.over_limit("download-rate", visitor, settings.DOWNLOAD_RATE_LIMIT)


# The refusals' English sentences stay as they are in the JSON tools read (CivitAI's wording); the page
# a person sees shows them in the page's language (docs/i18n.md).
PAGE_SENTENCES = {
    "Early Access": gettext_noop("Early access"),
    "Unauthorized": gettext_noop("Download not available"),
    "File not found": gettext_noop("File not found"),
    "Model archived, not available for download": gettext_noop("Model archived, not available for download"),
    "The creator of this asset has disabled downloads on this file": gettext_noop(
        "The creator of this asset has disabled downloads on this file"
    ),
    "The creator of this asset requires you to be logged in to download it": gettext_noop(
        "The creator of this asset requires you to be logged in to download it"
    ),
    "This asset is in Early Access. Log in with an account that has access, or wait until the deadline.": (
        gettext_noop(
            "This asset is in Early Access. Log in with an account that has access, or wait until the deadline."
        )
    ),
}


def _for_people(sentence):
    return gettext(PAGE_SENTENCES[sentence]) if sentence in PAGE_SENTENCES else sentence


def _refusal(request, user, refused: downloads.DownloadRefused):
    """JSON for tools; for a person in a browser, the login page when logging in could help, else a page
    that says why."""
    if not _wants_html(request):
        return json_response(refused.body, refused.status, Cache_Control=NO_STORE)
    if refused.status in (401, 403) and not user.is_authenticated and refused.body.get("message"):
        return redirect_to_login(request.get_full_path())
    response = render(
        request,
        "models_app/download_refused.html",
        {
            "status": refused.status,
            "error": refused.body.get("error"),
            "error_shown": _for_people(refused.body.get("error")),
            "message": _for_people(refused.body.get("message")),
            "deadline": refused.body.get("deadline"),
            "deadline_at": parse_datetime(refused.body.get("deadline") or ""),
        },
        status=refused.status,
    )
    response["Cache-Control"] = NO_STORE
    return response


@require_http_methods(["GET", "HEAD"])
def download_version(request, version_id: int):
    """Check, choose the file, count it once a day per visitor, and 307 to a self-authorising URL."""
    try:
        user = caller(request)
    except BadApiKey:
        return json_response({"error": "Unauthorized"}, 401, Cache_Control=NO_STORE)
    visitor = downloads.visitor_for(user=user, address=request.META.get("REMOTE_ADDR"))
    if over_rate_limit(visitor):
        response = json_response(
            {"error": "Too many requests", "message": "Too many downloads in a minute; try again shortly."},
            429,
            Cache_Control=NO_STORE,
        )
        response["Retry-After"] = "60"
        return response
    version = None
    if version_id <= MAX_ID:
        version = ModelVersion.objects.select_related("model").filter(id=version_id).first()
    try:
        downloads.check_download_allowed(user, version)
        params = request.GET
        model_file = downloads.choose_file(
            version,
            file_id=params.get("fileId"),
            type=params.get("type"),
            format=params.get("format"),
            size=params.get("size"),
            fp=params.get("fp"),
        )
        if model_file is None:
            raise downloads.not_found()
    except downloads.DownloadRefused as refused:
        return _refusal(request, user, refused)
    if request.method == "GET":  # a HEAD only asks about the file; it downloads nothing
        downloads.record_download(version=version, visitor=visitor)
    response = HttpResponseTemporaryRedirect(downloads.file_redirect_url(request, model_file))
    response["Cache-Control"] = NO_STORE
    return response


# --- GET|HEAD /files/<sha256>/<name>


def _parse_range(header: str | None, size: int):
    """(start, end) inclusive for one satisfiable range; "unsatisfiable"; or None for a full 200
    (no header, several ranges, or anything that isn't a plain byte range)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match:
        return None
    first, last = match.groups()
    try:
        if first:
            start = int(first)
            end = int(last) if last else size - 1
            if start >= size or start > end:
                return "unsatisfiable"
            return start, min(end, size - 1)
        if last:
            suffix = int(last)
            if suffix == 0 or size == 0:
                return "unsatisfiable"
            return max(0, size - suffix), size - 1
    except ValueError:  # more digits than int() accepts
        return None
    return None


def _stream(key: str, start: int, length: int):
    """Yield `length` bytes from `start`, one chunk at a time; the object is opened on first use."""
    reader = RangeReader(key, min_fetch=STREAM_CHUNK)
    try:
        reader.seek(start)
        remaining = length
        while remaining > 0:
            block = reader.read(min(STREAM_CHUNK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block
    finally:
        reader.close()


def _cork_while_sending(request, response) -> None:
    """Under gunicorn on Linux, hold back partial TCP segments while the file is sent and flush when
    the response closes: what nginx's `tcp_nopush` does, worth about a third more throughput on big
    files (bench/bench_download.py). Elsewhere nothing happens."""
    sock = request.META.get("gunicorn.socket")
    cork = getattr(socket, "TCP_CORK", None)
    if sock is None or cork is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    except OSError:
        return

    def uncork():
        try:
            sock.setsockopt(socket.IPPROTO_TCP, cork, 0)
        except OSError:
            pass  # the client is gone; nothing to flush

    response._resource_closers.append(uncork)


def ranged_response(request, *, size: int, etag: str, headers: dict, read_range, open_whole=None):
    """An answer to GET or HEAD for `size` bytes, shared by every URL that serves file bytes: one
    range gives 206 (several ranges, or junk, the whole file), an unsatisfiable one 416, an If-Range
    that names other bytes the whole file again. Never compressed; Content-Length is always exact.

    `read_range(start, length)` yields the bytes; `open_whole()`, when given, opens the whole file for
    a FileResponse, which lets the WSGI server use sendfile (local disk).
    """
    headers = {**headers, "Accept-Ranges": "bytes", "ETag": etag}
    wanted = _parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's partial copy is of other bytes: send them all again
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        response["Content-Length"] = "0"
        return response
    start, end = wanted if wanted else (0, size - 1)
    length = end - start + 1 if size else 0
    status = 206 if wanted else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status, headers=headers)
    elif not wanted and open_whole is not None:
        # The bytes never pass through Python (bench/bench_download.py compares this with nginx).
        response = FileResponse(open_whole(), status=200)
        for header, value in headers.items():
            response[header] = value
        _cork_while_sending(request, response)
    else:
        response = StreamingHttpResponse(read_range(start, length), status=status, headers=headers)
    response["Content-Length"] = str(length)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def blob_response(request, blob, headers: dict):
    """The bytes of a stored blob (see ranged_response), with `ETag: "<sha256>"`: from local disk
    through sendfile, from S3 streamed in chunks."""
    open_whole = None
    if not storage.is_s3():
        path = storage.model_storage().path(blob.storage_key)

        def open_whole():
            return open(path, "rb")

    return ranged_response(
        request,
        size=blob.size,
        etag=f'"{blob.sha256.lower()}"',
        headers=headers,
        read_range=lambda start, length: _stream(blob.storage_key, start, length),
        open_whole=open_whole,
    )


@require_http_methods(["GET", "HEAD"])
def serve_file(request, sha256: str, name: str):
    """The bytes behind a signed link. The name in the path is a label only; the file is found by
    the signature's file id and the content hash, and its headers use the stored name."""
    if not _SHA256.fullmatch(sha256):
        return json_response({"error": "File not found"}, 404)
    file_id = downloads.read_file_signature(request.GET.get("sig", ""), sha256)
    if file_id is None:
        return json_response(
            {"error": "This download link is invalid or has expired"}, 403, Cache_Control="no-store"
        )
    model_file = (
        ModelFile.objects.select_related("blob", "version__model")
        .filter(downloads.DOWNLOADABLE, id=file_id, blob__sha256=sha256.upper())
        .first()
    )
    if model_file is None:
        return json_response({"error": "File not found"}, 404, Cache_Control="no-store")
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": downloads.content_disposition(model_file.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": downloads.file_cache_control(model_file),
    }
    return blob_response(request, model_file.blob, headers)
