"""The download endpoint and the signed file URL behind it (docs/downloads.md), on local disk and on S3."""

import hashlib
import threading
import urllib.request
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.test import Client

from community.models import ApiKey
from models_app import demo, downloads
from models_app.models import (
    AIModel,
    DownloadRecord,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    PublishStatus,
    ScanStatus,
)
from models_app.storage import is_s3
from tests.factories import add_file, make_user, publish_model

pytestmark = pytest.mark.django_db


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def follow(client, location: str) -> bytes:
    """Fetch the redirect target the way a download tool does: without the API key."""
    if location.startswith("http://testserver/"):
        response = client.get(location)
        assert response.status_code == 200
        return body_of(response)
    with urllib.request.urlopen(location, timeout=30) as response:  # a presigned S3 URL
        assert response.status == 200
        return response.read()


def download_url(version, query: str = "") -> str:
    return f"/api/download/models/{version.id}{query}"


@pytest.fixture
def version(creator, run_on_commit):
    return publish_model(creator, run_on_commit)


@pytest.fixture
def primary(version):
    return version.files.select_related("blob").get()


@pytest.fixture
def file_url(primary):
    """The hub's own signed file URL (what the redirect points at on local disk)."""
    return downloads.signed_file_path(primary)


# --- The redirect.


def test_download_redirects_with_307_to_an_absolute_url_that_names_the_file(client, version):
    response = client.get(download_url(version))
    assert response.status_code == 307
    assert response["Cache-Control"] == "no-store, max-age=0"
    location = response["Location"]
    assert location.startswith("http://") or location.startswith("https://")
    query = parse_qs(urlsplit(location).query)
    assert query["response-content-disposition"] == ['attachment; filename="tiny.safetensors"']
    # What clients do: split the value on filename= and strip the quotes.
    assert query["response-content-disposition"][0].split("filename=")[1].strip('"') == "tiny.safetensors"


def test_following_the_redirect_returns_the_exact_bytes(client, version, primary):
    location = client.get(download_url(version))["Location"]
    data = follow(client, location)
    assert hashlib.sha256(data).hexdigest().upper() == primary.blob.sha256
    assert data == demo.tiny_lora()


def test_head_on_the_download_endpoint_redirects_too(client, version):
    response = client.head(download_url(version))
    assert response.status_code == 307 and response["Location"].startswith("http")


def test_the_redirect_never_carries_the_api_key(client, creator, version):
    _, raw = ApiKey.create(user=creator, name="tool")
    for response in (
        client.get(download_url(version, f"?token={raw}")),
        client.get(download_url(version), headers={"Authorization": f"Bearer {raw}"}),
    ):
        assert response.status_code == 307
        assert raw not in response["Location"] and "token" not in response["Location"]


def test_unknown_and_absurd_version_ids_are_404_json(client):
    for url in ("/api/download/models/999999", f"/api/download/models/{10**30}"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"error": "File not found"}
        assert response["Cache-Control"] == "no-store, max-age=0"


# --- The file URL.


def test_file_response_tells_tools_the_name_size_and_etag(client, primary, file_url):
    response = client.get(file_url)
    data = body_of(response)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename=\"tiny.safetensors\"; filename*=UTF-8''tiny.safetensors"
    )
    assert response["Content-Length"] == str(primary.blob.size) == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{primary.blob.sha256.lower()}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    # Anyone may download this version, and the bytes behind a content hash never change.
    assert response["Cache-Control"] == "public, max-age=31536000, s-maxage=3600, immutable"
    assert hashlib.sha256(data).hexdigest().upper() == primary.blob.sha256


def test_file_is_never_compressed_even_when_the_client_accepts_gzip(client, primary, file_url):
    response = client.get(file_url, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and "Content-Encoding" not in response
    assert len(body_of(response)) == primary.blob.size


def test_head_on_the_file_gives_the_same_headers_and_no_body(client, primary, file_url):
    response = client.head(file_url)
    assert response.status_code == 200
    assert response["Content-Length"] == str(primary.blob.size)
    assert response["ETag"] == f'"{primary.blob.sha256.lower()}"'
    assert response["Accept-Ranges"] == "bytes"
    assert body_of(response) == b""


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=10-", 10, None), ("bytes=10-19", 10, 19), ("bytes=-16", -16, None), ("bytes=0-0", 0, 0)],
)
def test_a_single_range_resumes_with_206_and_the_right_bytes(client, primary, file_url, header, first, last):
    whole = demo.tiny_lora()
    size = len(whole)
    start = first if first >= 0 else size + first
    end = size - 1 if last is None else last
    response = client.get(file_url, headers={"Range": header})
    assert response.status_code == 206
    assert body_of(response) == whole[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)


def test_a_range_past_the_end_is_clamped_to_the_file(client, primary, file_url):
    size = primary.blob.size
    response = client.get(file_url, headers={"Range": f"bytes={size - 5}-{size + 1000}"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"
    assert body_of(response) == demo.tiny_lora()[-5:]


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={big}-", "bytes=20-10", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_with_the_total_size(client, primary, file_url, header):
    size = primary.blob.size
    response = client.get(file_url, headers={"Range": header.format(size=size, big=size * 10)})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert body_of(response) == b""


@pytest.mark.parametrize("header", ["bytes=0-9,20-29", "bytes=-", "items=0-9", "bytes=abc", "bytes=1-2-3"])
def test_several_ranges_or_junk_get_the_whole_file(client, primary, file_url, header):
    response = client.get(file_url, headers={"Range": header})
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body_of(response) == demo.tiny_lora()


def test_if_range_with_another_etag_restarts_the_download(client, primary, file_url):
    response = client.get(file_url, headers={"Range": "bytes=10-", "If-Range": '"0000"'})
    assert response.status_code == 200 and body_of(response) == demo.tiny_lora()
    etag = f'"{primary.blob.sha256.lower()}"'
    response = client.get(file_url, headers={"Range": "bytes=10-", "If-Range": etag})
    assert response.status_code == 206


def test_a_forged_or_missing_signature_is_refused(client, primary, file_url):
    path = file_url.split("?")[0]
    sha = primary.blob.sha256.lower()
    forged = signing.dumps({"f": primary.id, "h": sha}, salt="something-else")
    for url in (path, f"{path}?sig=", f"{path}?sig={forged}", file_url.replace("sig=", "sig=x")):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "error" in response.json()


def test_an_expired_signature_is_refused(client, primary, monkeypatch):
    two_hours_ago = signing.b62_encode(int(signing.time.time()) - 7200)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_hours_ago)
    old_url = downloads.signed_file_path(primary)
    monkeypatch.undo()
    response = client.get(old_url)
    assert response.status_code == 403


def test_a_signature_for_one_file_does_not_open_another(client, creator, run_on_commit, file_url, primary):
    other = publish_model(
        creator, run_on_commit, name="Other", content=demo.tiny_vae(), filename="vae.safetensors"
    )
    other_sha = other.files.get().blob.sha256.lower()
    stolen = file_url.replace(primary.blob.sha256.lower(), other_sha)
    assert client.get(stolen).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        'my "best"\r\nSet-Cookie: x=1; café 日本.safetensors',
        "../../etc/passwd",
        "..\\..\\windows\\evil.ckpt",
        "\u202etxt.exe.safetensors",
        "50%.safetensors",
    ],
)
def test_a_hostile_file_name_gives_safe_headers(client, version, primary, name):
    ModelFile.objects.filter(id=primary.id).update(name=name)
    location = client.get(download_url(version))["Location"]
    assert "\r" not in location and "\n" not in location and "/../" not in location
    value = parse_qs(urlsplit(location).query)["response-content-disposition"][0]
    assert value.startswith('attachment; filename="') and value.endswith('"')
    offered = value.split("filename=")[1][1:-1]
    assert offered.isascii() and offered.isprintable() and offered
    assert not any(c in offered for c in '"\\/;%') and not offered.startswith(".")
    primary.refresh_from_db()
    response = client.get(downloads.signed_file_path(primary))
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and header.isascii()
    assert header.startswith(f"attachment; filename=\"{offered}\"; filename*=UTF-8''")
    real = unquote(header.split("filename*=UTF-8''")[1])
    assert not any(c in real for c in '"\\/\r\n\u202e') and not real.startswith(".")
    assert body_of(response) == demo.tiny_lora()


def test_a_non_ascii_name_keeps_its_real_spelling_in_filename_star(client, version, primary):
    ModelFile.objects.filter(id=primary.id).update(name="café-日本.safetensors")
    primary.refresh_from_db()
    header = client.get(downloads.signed_file_path(primary))["Content-Disposition"]
    assert header.startswith('attachment; filename="cafe-__.safetensors"; ')
    assert unquote(header.split("filename*=UTF-8''")[1], encoding="utf-8") == "café-日本.safetensors"


# --- Which file.


@pytest.fixture
def several_files(version, primary, run_on_commit):
    """The primary (a pruned fp16 safetensors LoRA), a full fp32 one, a pickle and a VAE."""
    ModelFile.objects.filter(id=primary.id).update(fp="fp16", size_variant="pruned")
    full = add_file(
        version, run_on_commit, name="full.safetensors", content=demo.tiny_checkpoint(),
        fp="fp32", size_variant="full",
    )  # fmt: skip
    pickle = add_file(
        version, run_on_commit, name="tiny-pickle.safetensors",
        content=demo.make_safetensors([("w", "F16", (4,), bytes(range(8)))]),
        format=FileFormat.PICKLETENSOR, fp="fp16", size_variant="pruned",
    )  # fmt: skip
    vae = add_file(version, run_on_commit, name="vae.safetensors", content=demo.tiny_vae(), type=FileType.VAE)
    return {"primary": primary, "full": full, "pickle": pickle, "vae": vae}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "primary"),
        ("?type=VAE", "vae"),
        ("?type=Model", "primary"),
        ("?fp=fp32", "full"),
        ("?size=full", "full"),
        ("?format=PickleTensor", "pickle"),
        ("?format=SafeTensor&fp=fp16", "primary"),
        ("?fp=bf16", "primary"),  # no bf16 file: preferences only rank, they don't exclude
    ],
)
def test_the_file_is_chosen_by_type_format_fp_and_size(client, version, several_files, query, expected):
    wanted = several_files[expected]
    response = client.get(download_url(version, query))
    assert response.status_code == 307
    assert urlsplit(response["Location"]).path.endswith("/" + wanted.name) or is_s3()
    params = dict(p.split("=", 1) for p in query.lstrip("?").split("&") if p)
    assert downloads.choose_file(version, **params) == wanted


def test_file_id_picks_that_file_and_an_unknown_one_is_404(client, version, several_files):
    vae = several_files["vae"]
    assert downloads.choose_file(version, file_id=str(vae.id)) == vae
    assert client.get(download_url(version, f"?fileId={vae.id}")).status_code == 307
    for junk in ("999999", "abc", "-1"):
        response = client.get(download_url(version, f"?fileId={junk}"))
        assert response.status_code == 404 and response.json() == {"error": "File not found"}


def test_a_type_the_version_lacks_is_404(client, version):
    response = client.get(download_url(version, "?type=VAE"))
    assert response.status_code == 404 and response.json() == {"error": "File not found"}


def test_without_a_primary_the_best_model_file_is_chosen(version, several_files):
    ModelFile.objects.filter(version=version).update(is_primary=False)
    assert downloads.choose_file(version) == several_files["primary"]


@pytest.mark.parametrize(
    "change",
    [
        {"status": FileStatus.QUARANTINED, "scan_status": ScanStatus.QUARANTINED},
        {"status": FileStatus.READY, "scan_status": ScanStatus.QUARANTINED},
        {"status": FileStatus.PROCESSING},
        {"status": FileStatus.REJECTED},
        {"status": FileStatus.ERROR},
    ],
)
def test_quarantined_or_unfinished_files_are_never_served(
    client, creator, version, primary, file_url, change
):
    ModelFile.objects.filter(id=primary.id).update(**change)
    client.force_login(creator)  # not even to their creator
    response = client.get(download_url(version))
    assert response.status_code == 404 and response.json() == {"error": "File not found"}
    assert client.get(download_url(version, f"?fileId={primary.id}")).status_code == 404
    assert client.get(file_url).status_code == 404  # a link handed out earlier stops working


# --- Who may download.


@pytest.fixture
def draft(creator, run_on_commit):
    return publish_model(creator, run_on_commit, name="Secret", publish=False)


def test_a_draft_is_404_for_anonymous_visitors_and_other_users(client, fan, draft):
    response = client.get(download_url(draft))
    assert response.status_code == 404 and response.json() == {"error": "File not found"}
    client.force_login(fan)
    assert client.get(download_url(draft)).status_code == 404
    client.logout()
    _, fan_key = ApiKey.create(user=fan, name="tool")
    assert client.get(download_url(draft), headers={"Authorization": f"Bearer {fan_key}"}).status_code == 404
    assert client.get(download_url(draft, f"?token={fan_key}")).status_code == 404


def test_a_draft_downloads_for_its_creator_and_moderators(client, creator, moderator, draft):
    for user in (creator, moderator):
        client.force_login(user)
        response = client.get(download_url(draft))
        assert response.status_code == 307
        assert hashlib.sha256(follow(client, response["Location"])).hexdigest().upper() == (
            draft.files.get().blob.sha256
        )
        client.logout()


def test_a_draft_downloads_with_the_creators_api_key_as_bearer_or_token(creator, draft):
    _, raw = ApiKey.create(user=creator, name="tool")
    tool = Client()  # no session: a download script
    assert tool.get(download_url(draft), headers={"Authorization": f"Bearer {raw}"}).status_code == 307
    assert tool.get(download_url(draft), headers={"Authorization": f"Token {raw}"}).status_code == 307
    response = tool.get(download_url(draft, f"?token={raw}"))
    assert response.status_code == 307
    assert follow(tool, response["Location"]) == demo.tiny_lora()


def test_a_bad_or_revoked_api_key_is_401_json(client, creator, version):
    for headers, query in (({"Authorization": "Bearer hub_nope"}, ""), ({}, "?token=hub_nope")):
        response = client.get(download_url(version, query), headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized"}
    key, raw = ApiKey.create(user=creator, name="old")
    ApiKey.objects.filter(id=key.id).update(revoked_at="2024-01-01T00:00:00Z")
    assert client.get(download_url(version, f"?token={raw}")).status_code == 401
    assert not DownloadRecord.objects.exists()


def test_an_archived_model_is_410(client, creator, version):
    AIModel.objects.filter(id=version.model_id).update(status=PublishStatus.ARCHIVED)
    response = client.get(download_url(version))
    assert response.status_code == 410
    assert response.json() == {"error": "Model archived, not available for download"}
    assert response["Cache-Control"] == "no-store, max-age=0"


def test_check_download_allowed_names_the_status_and_body(creator, fan, draft):
    with pytest.raises(downloads.DownloadRefused) as refused:
        downloads.check_download_allowed(fan, draft)
    assert (refused.value.status, refused.value.body) == (404, {"error": "File not found"})
    downloads.check_download_allowed(creator, draft)


# --- Counting.


def counts(version) -> tuple[int, int]:
    version.refresh_from_db()
    return version.download_count, AIModel.objects.get(id=version.model_id).download_count


def test_the_same_user_downloading_twice_a_day_counts_once(client, fan, version):
    client.force_login(fan)
    assert client.get(download_url(version)).status_code == 307
    assert client.get(download_url(version)).status_code == 307
    assert counts(version) == (1, 1)
    assert list(DownloadRecord.objects.values_list("visitor", flat=True)) == [f"u:{fan.id}"]


def test_two_users_count_twice_and_head_counts_nothing(client, creator, fan, version):
    client.head(download_url(version))
    assert counts(version) == (0, 0)
    for user in (creator, fan):
        client.force_login(user)
        client.get(download_url(version))
    assert counts(version) == (2, 2)


def test_anonymous_visitors_count_by_address_and_the_address_is_not_stored(version):
    for address in ("203.0.113.7", "203.0.113.7", "198.51.100.1"):
        assert Client(REMOTE_ADDR=address).get(download_url(version)).status_code == 307
    assert counts(version) == (2, 2)
    visitors = list(DownloadRecord.objects.values_list("visitor", flat=True))
    assert all(v.startswith("ip:") and "203.0" not in v and "198.51" not in v for v in visitors)


def test_record_download_only_counts_new_rows(version):
    assert downloads.record_download(version=version, visitor="u:1") is True
    assert downloads.record_download(version=version, visitor="u:1") is False
    for n in range(10):
        downloads.record_download(version=version, visitor=f"ip:{n}")
    assert counts(version) == (11, 11)


@pytest.mark.django_db(transaction=True)
def test_concurrent_downloads_are_counted_exactly(base_models):
    owner = make_user("alice")
    version = publish_model(owner)
    errors, barrier = [], threading.Barrier(8)

    def download(address):
        try:
            barrier.wait(timeout=30)
            response = Client(REMOTE_ADDR=address).get(download_url(version))
            assert response.status_code == 307
        except Exception as exc:  # reported below; a thread's exception would be lost
            errors.append(exc)
        finally:
            connection.close()

    # Five visitors once and a sixth three times, all at once: 6 downloads counted.
    addresses = [f"192.0.2.{n}" for n in range(5)] + ["192.0.2.99"] * 3
    threads = [threading.Thread(target=download, args=(a,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert counts(version) == (6, 6)
    assert DownloadRecord.objects.filter(version=version).count() == 6


def test_under_gunicorn_the_file_is_sent_corked_and_flushed_when_the_response_closes(primary, file_url):
    """What makes a big download as fast as nginx's (tcp_nopush): TCP_CORK on a real loopback
    socket while the file goes out, released when the WSGI server closes the response."""
    import socket

    from django.test import RequestFactory

    from models_app.download_views import serve_file

    if is_s3() or not hasattr(socket, "TCP_CORK"):
        pytest.skip("whole files are sent from local disk, and TCP_CORK is Linux's")
    listener = socket.create_server(("127.0.0.1", 0))
    client_side = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    try:
        path = file_url.partition("?")[0]
        request = RequestFactory().get(file_url)
        request.META["gunicorn.socket"] = server_side
        sha256, name = path.split("/")[2], path.split("/")[3]
        response = serve_file(request, sha256=sha256, name=name)
        assert response.status_code == 200
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 1
        assert b"".join(response.streaming_content) == demo.tiny_lora()
        for close in response._resource_closers:  # what response.close() runs, minus request_finished,
            close()  # which would close the test's database connection
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0
    finally:
        for s in (client_side, server_side, listener):
            s.close()
