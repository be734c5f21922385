"""Where model bytes live. Code asks for model_storage(), never for a backend class.

Local disk by default, S3 when S3_BUCKET is set (hub/settings.py). This is the only module that may
talk to boto3 directly.
"""

import collections
import contextlib
import errno
import fcntl
import functools
import glob
import hashlib
import io
import mmap
import os
import queue
import shutil
import threading
import uuid

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.urls import reverse

from .files.hashing import Holders


def model_storage():
    return storages["models"]


def new_upload_key(filename: str) -> str:
    """A fresh key for bytes that have not been hashed yet; the filename is never part of it."""
    return f"uploads/{uuid.uuid4().hex}"


def is_s3() -> bool:
    return bool(settings.S3_BUCKET)


def s3_client(endpoint_url: str | None = None):
    """A boto3 S3 client for the configured bucket's server (or another address of it, for URLs
    handed to browsers). One per process and settings: clients are thread-safe and costly to build."""
    return _cached_s3_client(
        endpoint_url or settings.S3_ENDPOINT_URL or None,
        settings.S3_ACCESS_KEY or None,
        settings.S3_SECRET_KEY or None,
        settings.S3_REGION,
    )


@functools.lru_cache(maxsize=8)
def _cached_s3_client(endpoint_url, access_key, secret_key, region):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def check_reachable() -> None:
    """Raise unless model storage answers (for /readyz, docs/operations.md#health-and-readiness): a HEAD on the
    bucket for S3, else the storage folder exists (or can be made) and is writable."""
    if is_s3():
        s3_client().head_bucket(Bucket=settings.S3_BUCKET)
        return
    location = model_storage().location
    os.makedirs(location, exist_ok=True)
    if not os.access(location, os.W_OK | os.X_OK):
        raise PermissionError(f"{location} is not writable")


def ensure_bucket() -> bool:
    """Create the S3 bucket if it is missing, and let browsers upload parts to it (CORS; the ETag
    header must be exposed, or a browser can't complete a multipart upload). True when created."""
    client = s3_client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    created = settings.S3_BUCKET not in existing
    if created:
        client.create_bucket(Bucket=settings.S3_BUCKET)
    client.put_bucket_cors(
        Bucket=settings.S3_BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["GET", "PUT", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    return created


def copy_object(src_key: str, dst_key: str) -> None:
    """Copy stored bytes to a new key without passing them through this process.

    If dst_key already exists it holds the same bytes (keys are content hashes), so nothing is done.
    The source is left in place: the caller deletes it once the database points at the copy, so a
    crash at any moment leaves a state that the same call can finish.
    """
    storage = model_storage()
    if storage.exists(dst_key):
        return
    if is_s3():
        prefix = storage.location.strip("/")
        src = f"{prefix}/{src_key}" if prefix else src_key
        dst = f"{prefix}/{dst_key}" if prefix else dst_key
        # boto3's managed copy runs server-side, in parts for big objects.
        s3_client().copy({"Bucket": settings.S3_BUCKET, "Key": src}, settings.S3_BUCKET, dst)
    else:
        dst_path = storage.path(dst_key)
        os.makedirs(os.path.dirname(dst_path), exist_ok=True)
        tmp_path = f"{dst_path}.{uuid.uuid4().hex}.tmp"
        try:
            try:
                os.link(storage.path(src_key), tmp_path)  # same disk: no bytes copied
            except OSError:
                shutil.copyfile(storage.path(src_key), tmp_path)
            os.replace(tmp_path, dst_path)
        finally:
            if os.path.exists(tmp_path):  # a full disk mid-copy: no partial blob stays
                os.remove(tmp_path)
        _remove_partial_copies(dst_path)


def take_local_file(path, key: str) -> bool:
    """Make the local file at `path` the object `key` without writing its bytes: a rename into local
    storage (import_models --move; docs/performance.md#uploads-in-one-pass). False, with nothing
    changed, when that can't be done: storage on S3 or on another filesystem, a symbolic link, or a
    file with other names (a hard link), whose bytes could then change under the hub's hashes."""
    if is_s3():
        return False
    info = os.lstat(path)
    if not os.path.isfile(path) or os.path.islink(path) or info.st_nlink != 1:
        return False
    dst_path = model_storage().path(key)
    os.makedirs(os.path.dirname(dst_path), exist_ok=True)
    try:
        os.link(path, dst_path)  # never replaces an object: fails if the key exists
    except OSError:  # another filesystem (EXDEV), or links not allowed there
        return False
    if settings.FILE_UPLOAD_PERMISSIONS is not None:  # as storage.save sets them on what it writes
        with contextlib.suppress(OSError):  # someone else's file: it keeps its mode
            os.chmod(dst_path, settings.FILE_UPLOAD_PERMISSIONS)
    try:
        os.unlink(path)
    except OSError:  # the source's folder is read-only: keep no second name, copy instead
        os.unlink(dst_path)
        return False
    return True


def write_local_object(key: str, source, on_block=None) -> int:
    """Write the new local object `key` with the bytes of the binary file `source`, from where it
    stands to its end, around the page cache (O_DIRECT) where the filesystem allows it; returns how
    many bytes were written (docs/performance.md#uploads-in-one-pass).

    An imported gigabyte is read rarely soon after, so it need not push what downloads read out of
    the page cache; and on a VM that hands freed memory back to its host, writing a gigabyte into
    the page cache cost 2-4x a sha256 of it, against about 0.8x written directly. Direct writes need
    memory, offsets and lengths aligned to the disk's blocks: the bytes are read into a few reused
    page-aligned buffers of STREAM_CHUNK (so no new memory is touched either), each written whole by
    a thread of its own while the next is read; the short last one goes through the page cache.
    Without O_DIRECT (another OS, a filesystem that refuses it) every write goes through the page cache.

    on_block(view, done) sees every block, in order, as it is read (the caller hashes it there): it
    may keep the view until it calls done(), once, and the buffer is not refilled before that.
    A failed read or write leaves no file."""
    path = model_storage().path(key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd, direct = os.open(path, flags | _O_DIRECT, 0o666), bool(_O_DIRECT)
    except OSError as exc:
        if not _O_DIRECT or exc.errno != errno.EINVAL:
            raise
        fd, direct = os.open(path, flags, 0o666), False
    buffers = [memoryview(mmap.mmap(-1, STREAM_CHUNK)) for _ in range(WRITE_BUFFERS)]  # page-aligned
    free: queue.Queue = queue.Queue()  # indexes of the buffers nobody holds
    for index in range(WRITE_BUFFERS):
        free.put(index)
    blocks: queue.Queue = queue.Queue()
    errors: list[BaseException] = []
    writer = threading.Thread(target=_write_blocks, args=(fd, direct, blocks, errors), name="object-writer")
    writer.start()
    written = 0
    try:
        try:
            while not errors:
                index = free.get()
                filled = _fill(source, buffers[index])
                if not filled:
                    break
                block, written = buffers[index][:filled], written + filled
                holders = Holders(1 if on_block is None else 2, lambda index=index: free.put(index))
                blocks.put((block, holders.let_go))
                if on_block is not None:
                    on_block(block, holders.let_go)
                if filled < STREAM_CHUNK:
                    break  # _fill stops short only at the end of the source
        finally:
            blocks.put(_WRITER_STOP)
            writer.join()
        if errors:
            raise errors[0]
    except BaseException:
        os.close(fd)
        os.remove(path)
        raise
    os.close(fd)
    if settings.FILE_UPLOAD_PERMISSIONS is not None:  # as storage.save sets them on what it writes
        os.chmod(path, settings.FILE_UPLOAD_PERMISSIONS)
    return written


# Buffers of STREAM_CHUNK per object being written: one being read into, the others waiting for
# the disk or the hashing lanes (hashing.QUEUE_DEPTH blocks each).
WRITE_BUFFERS = 8
_WRITER_STOP = object()


def _fill(source, buffer: memoryview) -> int:
    """Read from source into buffer until it is full or the source ends; the number of bytes read."""
    readinto = getattr(source, "readinto", None)
    filled = 0
    while filled < len(buffer):
        if readinto is not None:
            got = readinto(buffer[filled:]) or 0
        else:  # a stream with read() only
            data = source.read(len(buffer) - filled)
            got = len(data)
            buffer[filled : filled + got] = data
        if not got:
            break
        filled += got
    return filled


def _write_blocks(fd: int, direct: bool, blocks: queue.Queue, errors: list) -> None:
    """The writer thread: each queued block to the file in order. After a failure the rest are only
    let go, so the reader never waits for a buffer; it sees `errors` and stops."""
    while (item := blocks.get()) is not _WRITER_STOP:
        block, let_go = item
        if not errors:
            try:
                direct = _write_block(fd, block, direct)
            except BaseException as exc:
                errors.append(exc)
        let_go()
        del item, block


_O_DIRECT = getattr(os, "O_DIRECT", 0)  # Linux and the BSDs; 0 elsewhere
_DIRECT_ALIGNMENT = 4096  # the largest logical block size in use; 512-byte disks divide it


def _write_block(fd: int, block: memoryview, direct: bool) -> bool:
    """Write the whole block, continuing after a short write; returns whether the file is still in
    direct mode (never, when `direct` is False: a plain write). A block of unaligned length, or a
    direct write the filesystem refuses (EINVAL: after a short write the rest is unaligned, or the
    filesystem wants larger blocks), switches the file to the page cache for good."""
    if direct and len(block) % _DIRECT_ALIGNMENT:
        direct = _stop_direct(fd)
    while block:
        try:
            block = block[os.write(fd, block) :]
        except OSError as exc:
            if not direct or exc.errno != errno.EINVAL:
                raise
            direct = _stop_direct(fd)  # and the rest again, from where it stopped
    return direct


def _stop_direct(fd: int) -> bool:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_DIRECT)
    return False


def give_back_local_file(key: str, path) -> None:
    """Undo take_local_file: the import failed after the rename, so the file returns where it was."""
    os.rename(model_storage().path(key), path)


def _remove_partial_copies(path: str) -> None:
    """Delete the temporary copies of `path` that a worker killed mid-write left behind (SIGKILL runs
    no finally), once the object itself is complete; a run still writing one finds it gone and its
    task retries, which then finds the object done (docs/faults.md#a-worker-killed-mid-file)."""
    for stale in glob.glob(f"{glob.escape(path)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(stale)


# --- Reading stored objects without holding them in memory.

# 1 MiB: a block read, written and hashed by both hashing lanes while it is still in the CPU's cache.
# With 8 MiB blocks each pass read it back from memory: storing and hashing a 1 GiB file took 2.2 s
# against 1.2 s (a plain sha256: 0.66 s; docs/performance.md#uploads-in-one-pass, 2026-12-05).
STREAM_CHUNK = 1 << 20


# Bytes this process read back from storage, by way: "stream" (iter_object), "range" (RangeReader),
# "parts" (assembling local parts). Tests use it to check that processing reads an upload once.
BYTES_READ: collections.Counter = collections.Counter()


def iter_object(key: str, chunk_size: int = STREAM_CHUNK):
    """Yield an object's bytes front to back in chunks: one GET on S3, plain reads on disk."""
    if is_s3():
        body = s3_client().get_object(Bucket=settings.S3_BUCKET, Key=_s3_key(key))["Body"]
        try:
            for block in body.iter_chunks(chunk_size):
                BYTES_READ["stream"] += len(block)
                yield block
        finally:
            body.close()
    else:
        with open(model_storage().path(key), "rb") as f:
            while block := f.read(chunk_size):
                BYTES_READ["stream"] += len(block)
                yield block


def object_size(key: str) -> int:
    return model_storage().size(key)


class RangeReader(io.RawIOBase):
    """A seekable, read-only view of a stored object that fetches only the bytes asked for.

    On S3 every read is an HTTP Range request (at least `min_fetch` bytes, kept as a small
    read-ahead so parsers' many small reads don't each cost a request). `bytes_fetched` counts what
    came over the wire. On local disk it reads the file directly.
    """

    def __init__(self, key: str, min_fetch: int = 64 * 1024):
        self.key = key
        self.size = object_size(key)
        self.min_fetch = min_fetch
        self.bytes_fetched = 0
        self._pos = 0
        self._buffer_start = 0
        self._buffer = b""
        self._file = None if is_s3() else open(model_storage().path(key), "rb")

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.size - self._pos
        n = max(0, min(n, self.size - self._pos))
        if n == 0:
            return b""
        if self._file is not None:
            self._file.seek(self._pos)
            data = self._file.read(n)
            self.bytes_fetched += len(data)
            BYTES_READ["range"] += len(data)
        else:
            data = self._read_s3(n)
        self._pos += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read_s3(self, n: int) -> bytes:
        start, end = self._pos, self._pos + n
        buf_end = self._buffer_start + len(self._buffer)
        if self._buffer_start <= start and end <= buf_end:
            return self._buffer[start - self._buffer_start : end - self._buffer_start]
        fetch_end = min(self.size, start + max(n, self.min_fetch))
        response = s3_client().get_object(
            Bucket=settings.S3_BUCKET, Key=_s3_key(self.key), Range=f"bytes={start}-{fetch_end - 1}"
        )
        self._buffer = response["Body"].read()
        self._buffer_start = start
        self.bytes_fetched += len(self._buffer)
        BYTES_READ["range"] += len(self._buffer)
        return self._buffer[:n]

    def close(self):
        if self._file is not None:
            self._file.close()
        super().close()


def _s3_key(key: str) -> str:
    prefix = model_storage().location.strip("/")
    return f"{prefix}/{key}" if prefix else key


# --- Multipart uploads: S3's own protocol on S3, and the same steps on local disk, where the parts
# are PUT to the hub's chunk endpoint (models_app.api.LocalPartUpload) and written in place into
# one object in the upload's folder.

MULTIPART_DIR = "multipart"
LOCAL_OBJECT = "object"  # inside an upload's folder: the parts, each written at its offset
PART_URL_MAX_AGE = 6 * 3600  # seconds a signed part URL stays valid


class UploadGone(Exception):
    """Storage no longer knows this multipart upload: it was aborted, or completed already."""


class PartsRefused(Exception):
    """Storage refused to join the parts (S3's InvalidPart, InvalidPartOrder, EntityTooSmall)."""


# S3 error codes of complete_multipart_upload that blame the parts, not the server: retrying won't help.
_REFUSED_PART_CODES = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall"}


def _s3_error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def start_multipart(key: str) -> str:
    """Begin a multipart upload to `key`; returns its upload id."""
    if is_s3():
        response = s3_client().create_multipart_upload(
            Bucket=settings.S3_BUCKET, Key=_s3_key(key), ContentType="application/octet-stream"
        )
        return response["UploadId"]
    upload_id = uuid.uuid4().hex
    os.makedirs(_local_parts_dir(upload_id), exist_ok=True)
    return upload_id


def part_upload_url(*, key: str, upload_id: str, part_number: int, file_id: int, length: int) -> str:
    """A URL the client PUTs one part of exactly `length` bytes to, self-authorising and short-lived
    (no cookie, no key).

    On S3 the signature covers the Content-Length (botocore signs it as a header), so S3 refuses a
    body of any other length. moto does not check signatures, so complete_upload checks every part's
    size again. On local disk the hub's part endpoint checks the length against the row.
    """
    if is_s3():
        client = s3_client(endpoint_url=settings.S3_PUBLIC_ENDPOINT_URL)
        return client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": settings.S3_BUCKET,
                "Key": _s3_key(key),
                "UploadId": upload_id,
                "PartNumber": part_number,
                "ContentLength": length,
            },
            ExpiresIn=PART_URL_MAX_AGE,
        )
    token = signing.dumps({"f": file_id, "u": upload_id, "p": part_number}, salt="upload-part")
    return reverse("models_app:api_local_part", kwargs={"token": token})


def presigned_download_url(key: str, *, disposition: str, max_age: int, cache_control: str) -> str:
    """A short-lived S3 GET URL for browsers and tools, naming the file to save via
    response-content-disposition (clients read the filename from it) and how long caches may keep
    the bytes via response-cache-control (docs/operations.md#downloads-behind-a-cdn)."""
    return s3_client(endpoint_url=settings.S3_PUBLIC_ENDPOINT_URL).generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.S3_BUCKET,
            "Key": _s3_key(key),
            "ResponseContentDisposition": disposition,
            "ResponseContentType": "application/octet-stream",
            "ResponseCacheControl": cache_control,
        },
        ExpiresIn=max_age,
    )


def read_part_token(token: str) -> dict:
    """The {f, u, p} a local part URL was signed for; raises signing.BadSignature when forged or old."""
    return signing.loads(token, salt="upload-part", max_age=PART_URL_MAX_AGE)


def list_parts(*, key: str, upload_id: str) -> list[dict]:
    """The parts received so far, as S3 lists them: [{PartNumber, Size, ETag}]. Raises UploadGone
    when S3 no longer has the upload (on local disk, a missing folder has no parts)."""
    if is_s3():
        client, parts, marker = s3_client(), [], 0
        while True:
            try:
                response = client.list_parts(
                    Bucket=settings.S3_BUCKET, Key=_s3_key(key), UploadId=upload_id, PartNumberMarker=marker
                )
            except client.exceptions.NoSuchUpload:
                raise UploadGone(upload_id) from None
            parts += [{k: p[k] for k in ("PartNumber", "Size", "ETag")} for p in response.get("Parts", [])]
            if not response.get("IsTruncated"):
                return parts
            marker = response["NextPartNumberMarker"]
    parts = []
    folder = _local_parts_dir(upload_id)
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        number, etag, size = (name.split(".") + ["", ""])[:3]
        if number.isdigit() and len(etag) == 32 and size.isdigit():
            parts.append({"PartNumber": int(number), "Size": int(size), "ETag": f'"{etag}"'})
    return parts


def save_local_part(*, upload_id: str, part_number: int, offset: int, stream, length: int) -> str:
    """Write one part from a request body straight to its place in the upload's object, streaming;
    returns its ETag (MD5, as S3's).

    Parts have a fixed size, so part n starts at (n - 1) x the upload's part size (`offset`) and the
    object is whole once every part has arrived: completing writes nothing, and the worker only reads
    and hashes it (docs/performance.md#uploads-in-one-pass). A part counts once its marker,
    `<number>.<etag>.<size>`, exists; the marker goes before a part is written again, so a part cut off
    half-way is simply missing from the list and is sent again over its own range."""
    folder = _local_parts_dir(upload_id)
    if not os.path.isdir(folder):
        raise FileNotFoundError(upload_id)
    for old in os.listdir(folder):  # a re-sent part: unlisted while its range is rewritten
        if old.startswith(f"{part_number:05d}."):
            os.remove(os.path.join(folder, old))
    digest, remaining = hashlib.md5(usedforsecurity=False), length
    fd = os.open(os.path.join(folder, LOCAL_OBJECT), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        while remaining > 0:
            block = stream.read(min(remaining, 1 << 20))
            if not block:
                raise ValueError(f"The part ended after {length - remaining} of {length} bytes.")
            digest.update(block)
            remaining -= len(block)
            try:
                _write_block(fd, memoryview(block), direct=False)
            except OSError:
                # A full disk: read the rest of the body, so the client gets the answer (a 503
                # saying so, hub/unavailable.py) instead of a reset connection. The part stays
                # unlisted; its range is written again when it is re-sent
                # (docs/faults.md#the-disk-full-local-storage).
                while remaining > 0 and (block := stream.read(min(remaining, 1 << 20))):
                    remaining -= len(block)
                raise
    finally:
        os.close(fd)
    etag = digest.hexdigest()
    with open(os.path.join(folder, f"{part_number:05d}.{etag}.{length}"), "wb"):
        pass
    return f'"{etag}"'


def complete_multipart(*, key: str, upload_id: str, parts: list[dict]) -> None:
    """Finish the upload. On S3 the object appears at `key`; on local disk the object is already whole
    in the upload's folder, and the worker reads it and moves it to `key` (assemble_local_parts).

    Raises UploadGone when S3 no longer has the upload, PartsRefused when S3 refuses the parts.
    """
    if is_s3():
        from botocore.exceptions import ClientError

        try:
            s3_client().complete_multipart_upload(
                Bucket=settings.S3_BUCKET,
                Key=_s3_key(key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
                },
            )
        except ClientError as exc:
            code = _s3_error_code(exc)
            if code == "NoSuchUpload":
                raise UploadGone(upload_id) from None
            if code in _REFUSED_PART_CODES:
                raise PartsRefused(code) from None
            raise


def assemble_local_parts(*, key: str, upload_id: str, on_block) -> bool:
    """Make a local multipart upload's object, whose parts were written in place as they arrived,
    the object at `key` (a rename), then drop the parts' folder.

    on_block(block) sees every block of the object first, in order, so the caller hashes (and scans)
    the bytes in this one read (docs/performance.md#uploads-in-one-pass). Returns False when there
    was nothing to do (an earlier run did it), True otherwise."""
    folder = _local_parts_dir(upload_id)
    src = os.path.join(folder, LOCAL_OBJECT)
    if not os.path.exists(src):
        shutil.rmtree(folder, ignore_errors=True)  # an earlier run renamed it and was stopped here
        return False
    size = sum(p["Size"] for p in list_parts(key=key, upload_id=upload_id))
    with open(src, "rb") as f:
        while size > 0 and (block := f.read(min(size, STREAM_CHUNK))):
            BYTES_READ["parts"] += len(block)
            size -= len(block)
            on_block(block)
    dst = model_storage().path(key)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.replace(src, dst)
    shutil.rmtree(folder, ignore_errors=True)
    return True


def abort_multipart(*, key: str, upload_id: str) -> None:
    """Delete every part of an unfinished upload. Doing it again, or for an upload already finished,
    does nothing. A part still arriving while S3 aborts may survive it, and S3's documentation says to
    abort again then: the sweep's pass over stale uploads aborts whatever S3 still lists
    (models_app.tasks.sweep_abandoned_uploads)."""
    if is_s3():
        try:
            s3_client().abort_multipart_upload(
                Bucket=settings.S3_BUCKET, Key=_s3_key(key), UploadId=upload_id
            )
        except s3_client().exceptions.NoSuchUpload:
            pass
    else:
        shutil.rmtree(_local_parts_dir(upload_id), ignore_errors=True)


def discard_upload(*, key: str, upload_id: str) -> None:
    """Forget an upload that will not be processed: its parts, and the object at `key` in case a
    complete raced the cancellation. Safe to repeat."""
    if upload_id:
        abort_multipart(key=key, upload_id=upload_id)
    if key:
        model_storage().delete(key)


def stale_multipart_uploads(*, older_than) -> list[tuple[str, str]]:
    """(key, upload id) of every multipart upload under uploads/ begun before `older_than` (an aware
    datetime), whatever the database says: the sweep compares them with the open uploads.

    On S3 the age is the upload's `Initiated`; moto reports a fixed date in 2010 for every upload
    (docs/embedded-services.md). On local disk it is the parts folder's last change, with an empty key.
    """
    stale = []
    if is_s3():
        client, prefix = s3_client(), _s3_key("uploads/")
        cut = model_storage().location.strip("/")
        params = {"Bucket": settings.S3_BUCKET, "Prefix": prefix}
        while True:
            response = client.list_multipart_uploads(**params)
            for upload in response.get("Uploads", []):
                if upload["Initiated"] < older_than:
                    key = upload["Key"][len(cut) + 1 :] if cut else upload["Key"]
                    stale.append((key, upload["UploadId"]))
            if not response.get("IsTruncated"):
                return stale
            params["KeyMarker"] = response["NextKeyMarker"]
            params["UploadIdMarker"] = response["NextUploadIdMarker"]
    root = model_storage().path(MULTIPART_DIR)
    limit = older_than.timestamp()
    for entry in os.scandir(root) if os.path.isdir(root) else []:
        if entry.name.isalnum() and entry.is_dir(follow_symlinks=False) and entry.stat().st_mtime < limit:
            stale.append(("", entry.name))
    return stale


def stale_upload_objects(*, older_than) -> list[str]:
    """Keys of the whole objects under uploads/ last written before `older_than` (an aware datetime):
    uploaded bytes waiting for, or left over by, processing. The sweep keeps those a row still names
    (models_app.tasks.sweep_leftover_bytes). On local disk the age is the file's modification time,
    on S3 the object's LastModified."""
    stale = []
    if is_s3():
        client, cut = s3_client(), model_storage().location.strip("/")
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.S3_BUCKET, Prefix=_s3_key("uploads/")):
            for item in page.get("Contents", []):
                if item["LastModified"] < older_than:
                    stale.append(item["Key"][len(cut) + 1 :] if cut else item["Key"])
        return stale
    root = model_storage().path("uploads")
    limit = older_than.timestamp()
    for entry in os.scandir(root) if os.path.isdir(root) else []:
        if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
            stale.append(f"uploads/{entry.name}")
    return stale


def _local_parts_dir(upload_id: str) -> str:
    if not upload_id.isalnum():
        raise ValueError("bad upload id")
    return model_storage().path(f"{MULTIPART_DIR}/{upload_id}")
