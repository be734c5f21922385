"""`manage.py import_models`: local files through the same pipeline, one JSON line per file."""

import hashlib
import io
import json
import os
import queue
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from models_app import demo, services, storage
from models_app.models import AIModel, FileStatus, ModelFile
from models_app.storage import model_storage
from tests.factories import make_model, make_user
from tests.models_app.test_scanning import exec_writing, torch_zip

# Transactional, so files are processed (inline) as soon as each import commits, as with a worker.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("import_models", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_folder_imports_one_model_per_file_and_bad_files_become_lines_not_crashes(base_models, tmp_path):
    make_user("gina")
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "gina_style.safetensors").write_bytes(demo.tiny_lora())
    (folder / "broken.safetensors").write_bytes(b"\xff" * 64)
    (folder / "evil.ckpt").write_bytes(torch_zip(exec_writing(tmp_path / "pwned")))
    (folder / "virus.exe").write_bytes(b"MZ")
    lines = run(str(folder), "--owner", "gina", "--wait", "--publish")
    by_name = {line["path"].rsplit("/", 1)[-1]: line for line in lines}
    assert set(by_name) == {"gina_style.safetensors", "broken.safetensors", "evil.ckpt", "virus.exe"}
    for line in lines:
        assert {"path", "model_id", "version_id", "status"} <= set(line)

    good = by_name["gina_style.safetensors"]
    assert good["status"] == "ready" and "message" not in good
    model = AIModel.objects.get(id=good["model_id"])
    assert (model.name, model.type, model.status) == ("gina style", "LORA", "published")
    assert model.versions.get().base_model.name == "SD 1.5"  # detected from the header

    assert by_name["broken.safetensors"]["status"] == "rejected"
    assert "safetensors" in by_name["broken.safetensors"]["message"]
    evil = by_name["evil.ckpt"]
    assert evil["status"] == "quarantined"
    # The message names what was found (the dangerous import), not only "the scan flagged this file".
    assert "flagged" in evil["message"] and "builtins.exec" in evil["message"], evil["message"]
    assert "Dangerous import" in evil["message"] and "\n" not in evil["message"]
    assert not (tmp_path / "pwned").exists()
    assert by_name["virus.exe"]["status"] == "rejected" and by_name["virus.exe"]["model_id"] is None
    assert ModelFile.objects.filter(status=FileStatus.READY).count() == 1


def test_the_type_and_base_model_can_be_given(base_models, tmp_path):
    make_user("hal")
    path = tmp_path / "thing.safetensors"
    path.write_bytes(demo.tiny_vae())
    [line] = run(str(path), "--owner", "hal", "--type", "VAE", "--base-model", "SDXL 1.0", "--wait")
    version = AIModel.objects.get(id=line["model_id"]).versions.get()
    assert (version.model.type, version.base_model.name, line["status"]) == ("VAE", "SDXL 1.0", "ready")


def test_an_unknown_owner_is_a_clear_error(base_models, tmp_path):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run(str(tmp_path), "--owner", "nobody")


def test_a_missing_path_is_reported_and_the_rest_goes_on(base_models, tmp_path):
    make_user("ivy")
    good = tmp_path / "ok.safetensors"
    good.write_bytes(demo.tiny_lora())
    lines = run(str(tmp_path / "missing.safetensors"), str(good), "--owner", "ivy", "--wait")
    assert [line["status"] for line in lines] == ["rejected", "ready"]
    assert lines[0]["message"] == "No such file."


# --- --move: the hub takes the file instead of copying it (docs/performance.md#uploads-in-one-pass).


def test_move_takes_the_file_and_it_is_processed_as_a_copied_one(base_models, tmp_path):
    make_user("jon")
    data = demo.tiny_lora()
    path = tmp_path / "jon_style.safetensors"
    path.write_bytes(data)
    inode = path.stat().st_ino
    [line] = run(str(path), "--owner", "jon", "--move", "--wait")
    assert line["status"] == "ready"
    assert line["sha256"] == hashlib.sha256(data).hexdigest().upper()
    assert not path.exists()  # taken, not copied
    blob = ModelFile.objects.get(version_id=line["version_id"]).blob
    with model_storage().open(blob.storage_key) as stored:
        assert stored.read() == data
    if not storage.is_s3():  # local storage on the same disk: the very file, renamed; no byte written
        assert os.stat(model_storage().path(blob.storage_key)).st_ino == inode


def test_move_copies_a_file_with_another_name_and_leaves_that_name_alone(base_models, tmp_path):
    make_user("kim")
    data = demo.tiny_lora()
    path = tmp_path / "kim.safetensors"
    path.write_bytes(data)
    other_name = tmp_path / "also-kim.safetensors"
    os.link(path, other_name)  # a hard link: renaming would let writes there change the hub's bytes
    [line] = run(str(path), "--owner", "kim", "--move", "--wait")
    assert line["status"] == "ready"
    assert not path.exists() and other_name.read_bytes() == data
    blob = ModelFile.objects.get(version_id=line["version_id"]).blob
    if not storage.is_s3():
        assert os.stat(model_storage().path(blob.storage_key)).st_ino != other_name.stat().st_ino


def test_move_of_a_symbolic_link_imports_its_target_and_leaves_the_target(base_models, tmp_path):
    make_user("lou")
    data = demo.tiny_lora()
    target = tmp_path / "target.safetensors"
    target.write_bytes(data)
    link = tmp_path / "lou.safetensors"
    link.symlink_to(target)
    [line] = run(str(link), "--owner", "lou", "--move", "--wait")
    assert line["status"] == "ready" and line["sha256"] == hashlib.sha256(data).hexdigest().upper()
    assert not link.is_symlink() and target.read_bytes() == data


def test_a_moved_file_that_is_refused_goes_back_where_it_was(base_models, tmp_path, settings):
    owner = make_user("max")
    version = make_model(owner).versions.get()
    data = demo.tiny_lora()
    path = tmp_path / "max.safetensors"
    path.write_bytes(data)
    stored_before = _stored_files()
    settings.MAX_UPLOAD_SIZE = len(data) - 1  # the owner's limit, checked once the bytes are stored
    with pytest.raises(ValidationError):
        services.add_file(version=version, name=path.name, move_from=path)
    assert path.read_bytes() == data
    assert not ModelFile.objects.filter(version=version, name=path.name).exists()
    assert _stored_files() == stored_before


def _stored_files() -> list:
    if storage.is_s3():
        return []  # a copy refused on S3 is deleted by the code path every upload takes
    return sorted(p for p in Path(model_storage().location).rglob("*") if p.is_file())


class _DiskFailingAfter(io.BytesIO):
    """A source whose disk fails once `good` bytes have been read (EIO, as a dying drive gives)."""

    def __init__(self, data: bytes, good: int):
        super().__init__(data)
        self.good = good

    def read(self, n=-1):
        if self.tell() >= self.good:
            raise OSError(5, "Input/output error")
        return super().read(n)

    def readinto(self, buffer):
        if self.tell() >= self.good:
            raise OSError(5, "Input/output error")
        return super().readinto(buffer)


class _ShortReads(io.RawIOBase):
    """A source that gives at most `most` bytes a read, as a pipe or a socket does."""

    def __init__(self, data: bytes, most: int):
        self.data, self.pos, self.most = data, 0, most

    def readable(self):
        return True

    def readinto(self, buffer):
        got = self.data[self.pos : self.pos + min(len(buffer), self.most)]
        buffer[: len(got)] = got
        self.pos += len(got)
        return len(got)


class _ReadOnly:
    """A stream with read() and nothing else."""

    def __init__(self, data: bytes):
        self.f = io.BytesIO(data)

    def read(self, n=-1):
        return self.f.read(n)


def test_an_import_whose_source_fails_half_way_leaves_no_file_and_no_row(base_models, tmp_path):
    version = make_model(make_user("nia")).versions.get()
    data = os.urandom(3 * storage.STREAM_CHUNK + 123)
    stored_before = _stored_files()
    with pytest.raises(OSError, match="Input/output error"):
        services.add_file(version=version, name="nia.safetensors", content=_DiskFailingAfter(data, 2 << 20))
    assert not ModelFile.objects.filter(version=version, name="nia.safetensors").exists()
    assert _stored_files() == stored_before  # no half-written object left taking disk


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "page-cache"])
@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) - 7, 11 << 20])
def test_a_copied_import_is_stored_byte_for_byte_whatever_its_size_and_the_reads(size, direct, monkeypatch):
    """Imports are read into a few reused buffers and written around the page cache in whole aligned
    blocks, the short tail through it (storage.write_local_object); whatever the source's read sizes,
    on a system without direct I/O, and with more blocks than buffers, the stored object is the
    source's bytes, and every block handed to on_block, in order, is those bytes."""
    if storage.is_s3():
        pytest.skip("local storage's writer")
    if not direct:
        monkeypatch.setattr(storage, "_O_DIRECT", 0)
    data = os.urandom(size)
    sources = [io.BytesIO(data), _ShortReads(data, 1000), _ShortReads(data, 4097), _ReadOnly(data)]
    for source in sources:
        key, seen = storage.new_upload_key("x"), []

        def on_block(block, done, seen=seen):
            seen.append(bytes(block))
            done()

        assert storage.write_local_object(key, source, on_block=on_block) == size
        with open(model_storage().path(key), "rb") as f:
            assert f.read() == data
        assert b"".join(seen) == data
        model_storage().delete(key)


def test_a_block_handed_on_is_not_overwritten_before_its_holder_lets_go():
    """on_block may keep each block (the hashing lanes do) until it calls done: the buffer under it
    is refilled only after that, whichever of the writer and the holder finishes last."""
    if storage.is_s3():
        pytest.skip("local storage's writer")
    data = os.urandom(5 * storage.WRITE_BUFFERS * storage.STREAM_CHUNK + 99)
    held: queue.Queue = queue.Queue()
    changed = []

    def holder():  # lets go of each block a moment later, from another thread, as a lane does
        while (item := held.get()) is not None:
            copy, view, done = item
            time.sleep(0.001)
            if view != copy:
                changed.append(len(copy))
            done()

    thread = threading.Thread(target=holder)
    thread.start()
    key = storage.new_upload_key("x")
    try:
        written = storage.write_local_object(
            key, io.BytesIO(data), on_block=lambda view, done: held.put((bytes(view), view, done))
        )
    finally:
        held.put(None)
        thread.join()
    assert written == len(data) and changed == []
    with open(model_storage().path(key), "rb") as f:
        assert f.read() == data


def test_an_import_storage_cannot_take_says_so_and_leaves_no_empty_draft(base_models, tmp_path):
    """Storage refusing the bytes (here its uploads folder is a file: a broken mount, a full disk in
    the faults suite) is a line saying so, and the draft made for the file is gone again."""
    if storage.is_s3():
        pytest.skip("local storage's folders")
    make_user("ola")
    path = tmp_path / "ola_style.safetensors"
    path.write_bytes(demo.tiny_lora())
    Path(model_storage().location).mkdir(parents=True, exist_ok=True)
    Path(model_storage().path("uploads")).write_bytes(b"")  # where the folder for new objects goes
    [line] = run(str(path), "--owner", "ola")
    assert line["status"] == "error" and line["message"].startswith("Could not copy the file into the hub: ")
    assert line["model_id"] is None and line["version_id"] is None
    assert not AIModel.objects.filter(owner__username="ola").exists()
    assert path.read_bytes() == demo.tiny_lora()  # the source is untouched
