"""Uploads and imports are hashed while their bytes are stored, so the worker reads them once
(issue 18 part 4, docs/performance.md#uploads-in-one-pass). Runs on local disk, and on S3 in CI."""

import io
import os
import queue
import struct

import pytest

from models_app import demo, services, storage
from models_app.files.hashing import StreamHasher, file_hashes
from models_app.models import FileStatus, ModelFile
from tests.factories import make_model
from tests.models_app.test_uploads import PART, send_parts, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]

# What the worker may read back besides the one pass: the sniff and header reads (RangeReader
# fetches at least 64 KiB a time), never the tensor data again.
SMALL = 256 * 1024


@pytest.fixture
def reads():
    storage.BYTES_READ.clear()
    return storage.BYTES_READ


def big_safetensors(data_bytes: int = 2 * PART + 4321) -> tuple[bytes, int]:
    """A safetensors file of three parts and its data start (8 + header length)."""
    content = demo.make_safetensors(
        [("w", "U8", (data_bytes,), os.urandom(data_bytes))], metadata={"ss_network_dim": "4"}
    )
    return content, 8 + struct.unpack("<Q", content[:8])[0]


def expected(content: bytes, data_start: int | None) -> dict:
    hashes = file_hashes(io.BytesIO(content), data_start)
    return {
        "sha256": hashes["SHA256"],
        "autov1": hashes["AutoV1"],
        "autov3": hashes.get("AutoV3_full"),
        "crc32": hashes["CRC32"],
        "blake3": hashes["BLAKE3"],
    }


def stored(model_file: ModelFile) -> dict:
    blob = model_file.blob
    return {k: getattr(blob, k) for k in ("sha256", "autov1", "autov3", "crc32", "blake3")}


def api_upload(
    client, creator, version, content: bytes, name: str, run_on_commit, resend=(), type="Model"
) -> ModelFile:
    client.force_login(creator)
    response = start(client, version, name=name, size=len(content), type=type)
    assert response.status_code == 201, response.json()
    file_id = response.json()["id"]
    for number in resend:  # a flaky connection: a wrong copy of the part first, then the right one
        wrong = os.urandom(len(content[(number - 1) * PART : number * PART]))
        send_parts(
            client, file_id, content[: (number - 1) * PART] + wrong + content[number * PART :], [number]
        )
    send_parts(client, file_id, content)
    with run_on_commit():
        response = client.post(f"/api/hub/uploads/{file_id}/complete")
    assert response.status_code == 200, response.json()
    return ModelFile.objects.get(id=file_id)


def test_an_uploaded_safetensors_file_gets_every_hash_of_its_bytes_and_is_read_once(
    client, creator, version, run_on_commit, reads
):
    content, data_start = big_safetensors()
    model_file = api_upload(client, creator, version, content, "big.safetensors", run_on_commit)

    assert model_file.status == FileStatus.READY, model_file.status_message
    assert stored(model_file) == expected(content, data_start)
    assert model_file.blob.autov3  # a safetensors file has its AutoV3
    # One pass over the bytes: joining the local parts, or S3's one stream; then only the header.
    assert reads["parts"] + reads["stream"] == len(content)
    assert reads["range"] <= data_start + SMALL


def test_a_part_sent_twice_still_gives_the_hashes_of_the_right_bytes(
    client, creator, version, run_on_commit, reads
):
    content, data_start = big_safetensors()
    model_file = api_upload(
        client, creator, version, content, "big.safetensors", run_on_commit, resend=[1, 2]
    )

    assert model_file.status == FileStatus.READY, model_file.status_message
    assert stored(model_file) == expected(content, data_start)
    assert reads["parts"] + reads["stream"] == len(content)


def test_an_upload_whose_first_bytes_look_like_a_header_length_has_no_autov3(
    client, creator, version, run_on_commit
):
    """The hash starts before the header is parsed, guessing AutoV3's start from the first 8 bytes;
    a file that is not safetensors keeps every other hash and gets no AutoV3."""
    # Not "{" after the length: random bytes there made it look like safetensors once in 256 runs.
    content = struct.pack("<Q", 16) + b"notes: " + os.urandom(PART + 92)
    model_file = api_upload(
        client, creator, version, content, "notes.txt", run_on_commit, type="Training Data"
    )

    assert model_file.status == FileStatus.READY, model_file.status_message
    assert model_file.metadata["format_sniffed"] != "safetensors"
    assert stored(model_file) == expected(content, None)
    assert model_file.blob.autov3 is None


def test_an_imported_file_is_hashed_while_it_is_stored_and_the_worker_reads_only_its_header(
    creator, run_on_commit, reads
):
    content, data_start = big_safetensors()
    with run_on_commit():
        model = make_model(creator, content=content, filename="big.safetensors", publish=False)
    model_file = ModelFile.objects.get(version__model=model)

    assert model_file.status == FileStatus.READY, model_file.status_message
    assert stored(model_file) == expected(content, data_start)
    assert reads["stream"] == reads["parts"] == 0
    assert reads["range"] <= data_start + SMALL
    assert "one_pass_hashes" not in model_file.metadata  # the worker's token is gone from the file


def test_an_import_whose_hashes_were_tampered_with_is_hashed_again(creator, run_on_commit, reads):
    """The hashes wait on the row, signed for the upload's key: a row edited to carry hashes of other
    bytes (or another file's token) is not believed, and the worker reads the bytes."""
    content, data_start = big_safetensors()
    other = make_model(creator, content=os.urandom(1000), filename="other.bin", publish=False)
    other_token = ModelFile.objects.get(version__model=other).metadata["one_pass_hashes"]
    version = make_model(creator, publish=False).versions.get()
    storage.BYTES_READ.clear()
    with run_on_commit():
        model_file = services.add_file(version=version, name="big.safetensors", content=io.BytesIO(content))
        model_file.metadata["one_pass_hashes"] = other_token
        model_file.save(update_fields=["metadata"])
    model_file.refresh_from_db()

    assert model_file.status == FileStatus.READY, model_file.status_message
    assert stored(model_file) == expected(content, data_start)
    assert reads["stream"] == len(content)


@pytest.mark.parametrize("sizes", [[1, 2, 3, 4, 1 << 20], [7, 1, 5 << 20], [3 << 20, 3 << 20], [5]])
def test_the_stream_hasher_gives_file_hashes_whatever_the_block_sizes(sizes):
    content, data_start = big_safetensors(sum(sizes))
    hasher, pos = StreamHasher(len(content)), 0
    for size in [*sizes, len(content)]:
        hasher.update(content[pos : pos + size])
        pos += size
    assert hasher.result() == file_hashes(io.BytesIO(content), data_start)
    assert hasher.data_start == data_start and hasher.fed == len(content)


@pytest.mark.parametrize("sizes", [[1 << 20], [3, 1 << 20, 5], [2 << 20, 1000]])
def test_the_stream_hasher_reads_a_reused_buffer_until_it_says_done(sizes):
    """update(view, done): the view is hashed where it lies, so its owner refills the buffer only
    after done(), which runs once for every block, whether hashed in a lane or copied."""
    content, data_start = big_safetensors(9 << 20)
    buffers = [bytearray(max(sizes)) for _ in range(2)]
    free = queue.Queue()
    for index in range(len(buffers)):
        free.put(index)
    hasher, pos, blocks, dones = StreamHasher(len(content)), 0, 0, []
    while pos < len(content):
        size = min(sizes[blocks % len(sizes)], len(content) - pos)
        index = free.get(timeout=30)  # waits for a buffer the hasher has let go of
        buffers[index][:size] = content[pos : pos + size]
        hasher.update(
            memoryview(buffers[index])[:size], lambda index=index: (dones.append(index), free.put(index))
        )
        pos, blocks = pos + size, blocks + 1
    assert hasher.result() == file_hashes(io.BytesIO(content), data_start)
    assert len(dones) == blocks


def test_local_parts_land_in_place_in_any_order_and_completing_copies_no_byte(
    client, creator, version, run_on_commit, reads, settings
):
    """Each part is written at its offset in the upload's object as it arrives, so a 1 GiB upload
    never takes 2 GiB of disk and the worker only reads and hashes it; a part cut off half-way (a
    dropped connection) is not listed, and sending it again fills its range."""
    if settings.S3_BUCKET:
        pytest.skip("the hub's own part store is only used on local storage")
    content, data_start = big_safetensors()
    client.force_login(creator)
    file_id = start(client, version, name="big.safetensors", size=len(content)).json()["id"]
    upload_id = ModelFile.objects.get(id=file_id).multipart_upload_id
    send_parts(client, file_id, content, [3, 1])
    with pytest.raises(ValueError, match="ended after"):
        storage.save_local_part(
            upload_id=upload_id, part_number=2, offset=PART, stream=io.BytesIO(b"\0" * 1000), length=PART
        )
    listed = client.get(f"/api/hub/uploads/{file_id}/parts").json()
    assert [p["PartNumber"] for p in listed] == [1, 3]

    send_parts(client, file_id, content, [2])
    folder = storage.model_storage().path(f"{storage.MULTIPART_DIR}/{upload_id}")
    written = os.stat(os.path.join(folder, storage.LOCAL_OBJECT))
    assert written.st_size == len(content)
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200

    model_file = ModelFile.objects.get(id=file_id)
    assert model_file.status == FileStatus.READY, model_file.status_message
    assert stored(model_file) == expected(content, data_start)
    kept = os.stat(storage.model_storage().path(model_file.blob.storage_key))
    assert (kept.st_dev, kept.st_ino) == (written.st_dev, written.st_ino)  # renamed, never copied
    assert reads["parts"] == len(content)
    assert not os.path.exists(folder)
