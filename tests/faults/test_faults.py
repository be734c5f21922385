"""Five faults, each caused under the hub's real processes (docs/faults.md): what the user sees while
it lasts, and that the hub recovers with nothing half-written once the service is back."""

import hashlib
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import MIB, PART, USER, part_of, wait_until

pytestmark = pytest.mark.faults


def file_status(postgres, file_id: int) -> str:
    return postgres.query("SELECT status FROM models_app_modelfile WHERE id = %s", file_id)[0][0]


def blob_sha256(postgres, file_id: int) -> str:
    rows = postgres.query(
        "SELECT b.sha256 FROM models_app_modelfile f JOIN models_app_contentblob b ON b.id = f.blob_id "
        "WHERE f.id = %s",
        file_id,
    )
    return rows[0][0] if rows else ""


def wait_ready(hub, postgres, file_id: int, seconds: float = 120) -> None:
    def done():
        ((status, message),) = postgres.query(
            "SELECT status, status_message FROM models_app_modelfile WHERE id = %s", file_id
        )
        assert status in ("pending", "processing", "ready"), (status, message, hub.logs())
        return status == "ready"

    wait_until(done, seconds, 0.2, f"file {file_id} ready")


def upload(hub, version_id: int, payload: bytes, filename: str = "weights.txt") -> int:
    """A whole upload with the storage up: start, every part, complete; returns the file id."""
    file_id = hub.start_upload(version_id, len(payload), filename)
    for number in range(1, -(-len(payload) // PART) + 1):
        assert hub.send_part(file_id, number, part_of(payload, number))[0] == 200, hub.logs()
    assert hub.api("POST", f"/api/hub/uploads/{file_id}/complete")["status"] == "pending"
    return file_id


def leftovers(folder) -> list[str]:
    """Temporary files a write left behind: partial parts (tmp-*) and partial objects (*.tmp)."""
    found = []
    for path, _, names in os.walk(folder):
        found += [os.path.join(path, n) for n in names if n.startswith("tmp-") or n.endswith(".tmp")]
    return found


def test_a_worker_killed_while_hashing_leaves_a_file_that_the_sweep_finishes(hub_factory, postgres, figures):
    hub = hub_factory()
    hub.start_web()
    payload = os.urandom(8 * MIB) * 32  # 256 MiB: long enough to be caught while it is processed
    version_id = hub.new_version("Killed worker")
    file_id = upload(hub, version_id, payload)
    worker = hub.start_worker()
    wait_until(lambda: file_status(postgres, file_id) == "processing", 120, 0.01, "processing to start")
    hub.kill(worker)
    killed = time.monotonic()
    assert file_status(postgres, file_id) == "processing", "the worker finished before it was killed"
    time.sleep(1)
    assert file_status(postgres, file_id) == "processing"  # its message went with it: nobody finishes it

    hub.start_worker()
    hub.celery_call("models_app.tasks.sweep_stuck_files")  # what beat does every minute
    wait_ready(hub, postgres, file_id)
    figures["kill_to_ready_s"] = time.monotonic() - killed
    assert blob_sha256(postgres, file_id) == hashlib.sha256(payload).hexdigest().upper()
    assert leftovers(hub.env["MEDIA_ROOT"]) == []
    answer = hub.api("GET", f"/api/hub/versions/{version_id}/files")  # what the creator's page polls
    assert [(f["id"], f["status"]) for f in answer["files"]] == [(file_id, "ready")]


def test_s3_unreachable_during_an_upload_answers_503_and_the_upload_resumes(
    hub_factory, s3, postgres, figures
):
    hub = hub_factory(
        S3_ENDPOINT_URL=f"http://127.0.0.1:{s3.port}", S3_BUCKET="faults", S3_ACCESS_KEY="faults",
        S3_SECRET_KEY="faults-secret",
    )  # fmt: skip
    hub.manage("create_bucket")
    hub.start_web()
    hub.start_worker()
    payload = os.urandom(2 * PART + MIB)  # three parts
    version_id = hub.new_version("S3 outage")
    file_id = hub.start_upload(version_id, len(payload))
    assert hub.send_part(file_id, 1, part_of(payload, 1))[0] == 200

    s3.stop()
    down = time.monotonic()
    with pytest.raises(OSError):  # the browser's next part can't reach storage either
        hub.send_part(file_id, 2, part_of(payload, 2))
    t0 = time.monotonic()
    status, headers, answer = hub.request("GET", f"/api/hub/uploads/{file_id}/parts")
    figures["503_answer_s"] = time.monotonic() - t0
    assert status == 503 and "File storage is not answering" in answer["detail"], (status, answer)
    assert headers["Retry-After"] == "30"
    status, _, answer = hub.request("POST", f"/api/hub/uploads/{file_id}/complete")
    assert status == 503 and "carries on from the parts already sent" in answer["detail"]
    status, _, answer = hub.request(
        "POST",
        "/api/hub/uploads",
        {"version_id": version_id, "filename": "b.txt", "size": MIB, "type": "Other"},
    )
    assert status == 503 and "File storage" in answer["detail"]
    files = postgres.query("SELECT id, status FROM models_app_modelfile WHERE version_id = %s", version_id)
    assert files == [(file_id, "uploading")]  # no row for the refused start, the upload still open
    assert hub.request("GET", "/", auth=False)[0] == 200  # pages don't need storage

    s3.start()
    figures["outage_s"] = time.monotonic() - down
    back = time.monotonic()
    parts = hub.api("GET", f"/api/hub/uploads/{file_id}/parts")
    assert [p["PartNumber"] for p in parts] == [1]  # what arrived before the outage is still there
    for number in (2, 3):
        assert hub.send_part(file_id, number, part_of(payload, number))[0] == 200
    assert hub.api("POST", f"/api/hub/uploads/{file_id}/complete")["status"] == "pending"
    wait_ready(hub, postgres, file_id)
    figures["back_to_ready_s"] = time.monotonic() - back
    assert blob_sha256(postgres, file_id) == hashlib.sha256(payload).hexdigest().upper()


def test_with_redis_down_pages_and_downloads_serve_and_queued_work_happens_once_it_is_back(
    hub_factory, redis_up, postgres, figures
):
    redis_server = redis_up
    hub = hub_factory()
    hub.start_web()
    hub.start_worker()
    payload = os.urandom(MIB)
    version_id = hub.new_version("Redis outage")
    ready_id = upload(hub, version_id, payload, "ready.txt")
    wait_ready(hub, postgres, ready_id)
    hub.api("POST", f"/api/hub/versions/{version_id}/publish")

    redis_server.kill()
    down = time.monotonic()
    for path in ("/", "/models/", "/api/hub/models", "/search/?q=redis"):
        status, _, body = hub.request("GET", path, auth=False)
        assert status == 200, (path, status, body)
    status, _, body = hub.request("GET", f"/api/download/models/{version_id}", auth=False)
    assert status == 200 and body == payload  # the redirect to the signed file URL, followed

    # A file completed while the broker is down: the upload stands (the creator sees it pending) and
    # the lost message is logged as an error, not dropped in silence.
    second = os.urandom(MIB)
    waiting_id = upload(hub, hub.new_version("Queued during the outage"), second, "waiting.txt")
    wait_until(
        lambda: f"could not queue file {waiting_id} for processing" in hub.logs(tail=0),
        30,
        what="the error logged",
    )
    time.sleep(2)
    assert file_status(postgres, waiting_id) == "pending"

    redis_server.start()
    figures["outage_s"] = time.monotonic() - down
    back = time.monotonic()
    hub.celery_call("models_app.tasks.sweep_stuck_files")  # beat's sweep, every minute
    wait_ready(hub, postgres, waiting_id)
    figures["back_to_ready_s"] = time.monotonic() - back
    assert blob_sha256(postgres, waiting_id) == hashlib.sha256(second).hexdigest().upper()


def _statuses(hub, paths) -> list[int]:
    def get(path):
        try:
            return hub.request("GET", path, auth=False, timeout=30)[0]
        except OSError:
            return 0

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(get, paths))


def test_after_a_postgresql_restart_the_web_process_answers_again_without_a_restart(
    hub_factory, postgres, figures
):
    hub = hub_factory()
    web = hub.start_web()
    paths = ["/", "/api/hub/models", "/models/", "/healthz"] * 10
    assert set(_statuses(hub, paths)) == {200}  # every thread of both workers holds a connection now

    postgres.stop()
    down = time.monotonic()
    try:
        # The home page kept for anonymous visitors (ANONYMOUS_CACHE_SECONDS) reads no database: it
        # still answers. A page built for each request does not.
        assert hub.request("GET", "/", auth=False)[0] == 200
        # With the pool (DB_POOL_SIZE) a request waits DB_POOL_TIMEOUT for a connection that can't
        # come, then gets the pool's sentence and Retry-After: 5; without it, at once and 30.
        status, headers, body = hub.request("GET", f"/user/{USER}", auth=False)
        assert (
            status == 503
            and b"The database is not answering" in body
            and headers["Retry-After"] in ("5", "30")
        )
        status, _, answer = hub.request("GET", "/api/hub/models", auth=False)
        assert status == 503 and "The database is not answering" in answer["detail"]
        assert hub.request("GET", "/readyz", auth=False)[0] == 503  # a load balancer takes the hub out
    finally:
        postgres.start()
    figures["outage_s"] = time.monotonic() - down
    back = time.monotonic()
    statuses = _statuses(hub, paths)
    figures["first_answers_s"] = time.monotonic() - back
    figures["failed_after_restart"] = sum(s != 200 for s in statuses)
    assert statuses == [200] * len(paths), hub.logs()
    assert web.poll() is None  # the same web process


def stored_files(folder) -> list[str]:
    return sorted(os.path.join(path, n) for path, _, names in os.walk(folder) for n in names)


def test_a_full_disk_refuses_a_part_with_a_readable_error_and_lists_only_whole_parts(
    hub_factory, tmp_path, postgres, figures
):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full disk needs root (CI runs as root)")
    media = tmp_path / "media"
    media.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(media)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"could not mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        hub = hub_factory()
        hub.start_web()
        hub.start_worker()
        payload = os.urandom(3 * PART)  # 15 MiB on a 12 MiB disk
        file_id = hub.start_upload(hub.new_version("Full disk"), len(payload))
        for number in (1, 2):
            assert hub.send_part(file_id, number, part_of(payload, number))[0] == 200
        status, headers, answer = hub.send_part(file_id, 3, part_of(payload, 3))
        assert status == 503 and "storage is full, so nothing was saved" in answer["detail"], (status, answer)
        assert headers["Retry-After"] == "30"
        assert leftovers(media) == []  # no temporary file; the refused part is not listed
        assert [p["PartNumber"] for p in hub.api("GET", f"/api/hub/uploads/{file_id}/parts")] == [1, 2]
        assert hub.request("GET", "/", auth=False)[0] == 200

        # An import into the full disk: a line saying why, no half-written object, no empty draft.
        source = tmp_path / "full_disk_import.safetensors"  # on the real disk; storage is the tmpfs
        source.write_bytes(os.urandom(4 * MIB))
        stored_before = stored_files(media)
        [line] = map(json.loads, hub.manage("import_models", str(source), "--owner", USER).splitlines())
        assert line["status"] == "error" and "No space left on device" in line["message"], line
        assert line["model_id"] is None
        assert stored_files(media) == stored_before
        assert postgres.query("SELECT count(*) FROM models_app_aimodel WHERE name = 'full disk import'") == [
            (0,)
        ]

        subprocess.run(["mount", "-o", "remount,size=64m", str(media)], check=True)  # room again
        back = time.monotonic()
        assert hub.send_part(file_id, 3, part_of(payload, 3))[0] == 200
        assert hub.api("POST", f"/api/hub/uploads/{file_id}/complete")["status"] == "pending"
        wait_ready(hub, postgres, file_id)
        figures["back_to_ready_s"] = time.monotonic() - back
        assert blob_sha256(postgres, file_id) == hashlib.sha256(payload).hexdigest().upper()
        assert leftovers(media) == []
    finally:
        subprocess.run(["umount", "-l", str(media)], capture_output=True)
