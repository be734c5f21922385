"""The file corpus of docs/hostile-input.md's checklist, built here, each file sent through the real
upload service and processing task (local disk or S3, the worker's code inline).

Every hostile file ends `rejected` or `quarantined` with a sentence naming why, or is refused at the
upload with a 400; odd-but-harmless files end `ready` with the odd part dropped. In every case the
payload never runs, no blob is kept for a refused file, and another creator's published model, its
file and its blob are untouched."""

import gzip
import io
import json
import struct
import zipfile
import zlib

import pytest

from models_app import demo, services
from models_app.models import AIModel, ContentBlob, FileStatus, FileType, ModelFile, ModelType, ScanStatus
from models_app.tasks import process_file
from tests.factories import make_model
from tests.models_app.test_scanning import BENIGN, exec_writing, os_system, torch_zip

pytestmark = pytest.mark.django_db

PWNED = "/tmp/hostile-suite-pwned"  # what every pickle payload tries to create
REJECTED, QUARANTINED, READY = FileStatus.REJECTED, FileStatus.QUARANTINED, FileStatus.READY


def tensor(name="lora_unet_x.lora_down.weight"):
    return [(name, "F16", (2, 2), b"\0" * 8)]


def raw_header(header: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + body


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width=8, height=8, *, before=(), after=(), idat: bytes | None = None) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\0" + b"\x80" * 3 * width for _ in range(min(height, 64)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + b"".join(before)
        + png_chunk(b"IDAT", zlib.compress(rows) if idat is None else idat)
        + b"".join(after)
        + png_chunk(b"IEND", b"")
    )


def a_zip(*members: tuple[str, bytes], **flags) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            for key, value in flags.items():
                setattr(info, key, value)
            zf.writestr(info, data)
    return out.getvalue()


def encrypted(data: bytes) -> bytes:
    """The zip with every member flagged as encrypted (zipfile cannot write encrypted members)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        while start != -1:
            out[start + offset] |= 0x01
            start = out.find(signature, start + 4)
    return bytes(out)


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\0" * (200 * 1024 * 1024))
    return out.getvalue()


def tar_file() -> bytes:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        data = b"x" * 100
        info = tarfile.TarInfo("model.bin")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'

# (id, checklist item, file name, file type, bytes, expected status, words the message must contain)
CORPUS = [
    ("empty-file", 1, "empty.safetensors", FileType.MODEL, lambda: b"", REJECTED, "empty"),
    ("pickle-named-safetensors", 2, "evil.safetensors", FileType.MODEL,
     lambda: torch_zip(os_system(f"touch {PWNED}")), REJECTED, "safetensors"),
    ("trailing-bytes", 2, "tail.safetensors", FileType.MODEL,
     lambda: demo.make_safetensors(tensor()) + b"PK\x03\x04 a zip after the tensors", REJECTED, "rule 7"),
    ("png-that-is-a-zip", 2, "polyglot.safetensors", FileType.MODEL,
     lambda: png() + a_zip(("archive/data.pkl", os_system(f"touch {PWNED}"))), REJECTED, "safetensors"),
    ("zip-named-png", 2, "picture.png", FileType.IMAGE,
     lambda: a_zip(("archive/data.pkl", os_system(f"touch {PWNED}"))), REJECTED, ""),
    ("svg-with-script-named-png", 13, "logo.png", FileType.IMAGE, lambda: SVG, REJECTED, ""),
    ("header-length-2-63", 3, "huge.safetensors", FileType.MODEL,
     lambda: struct.pack("<Q", 2**63) + b"{}", REJECTED, "rule 2"),
    ("header-past-eof", 3, "short.safetensors", FileType.MODEL,
     lambda: struct.pack("<Q", 4096) + b"{}", REJECTED, "rule"),
    ("header-not-utf8", 3, "latin.safetensors", FileType.MODEL, lambda: raw_header(b'{"\xff": 1}'), REJECTED, "rule"),
    ("header-duplicate-keys", 3, "dup.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"a": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}, '
                        b'"a": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}', b"\0\0"), REJECTED, "rule"),
    ("header-nan", 3, "nan.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"a": {"dtype": "F16", "shape": [NaN], "data_offsets": [0, 2]}}', b"\0\0"), REJECTED, "rule"),
    ("header-deep", 3, "deep.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"__metadata__": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"), REJECTED, "rule"),
    ("header-bad-dtype", 3, "dtype.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"a": {"dtype": "F99", "shape": [1], "data_offsets": [0, 2]}}', b"\0\0"), REJECTED, "rule"),
    ("header-size-overflow", 3, "overflow.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"a": {"dtype": "F64", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}',
                        b"\0" * 8), REJECTED, "rule"),
    ("header-overlap", 3, "overlap.safetensors", FileType.MODEL,
     lambda: raw_header(b'{"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, '
                        b'"b": {"dtype": "F16", "shape": [2], "data_offsets": [2, 6]}}', b"\0" * 6), REJECTED, "rule"),
    ("truncated", 3, "cut.safetensors", FileType.MODEL,
     lambda: demo.make_safetensors(tensor())[:-3], REJECTED, "rule"),
    ("metadata-bomb", 4, "bomb.safetensors", FileType.MODEL,
     lambda: demo.make_safetensors(tensor(), {"ss_tag_frequency": json.dumps({"x": {"t": 1}}) + " " * 600_000}),
     READY, ""),
    ("nul-and-surrogates", 5, "text.safetensors", FileType.MODEL,
     lambda: demo.make_safetensors(tensor(), {"ss_output_name": "evil\x00name", "ss_training_comment": "a \ud800"}),
     READY, ""),
    ("os-system-pickle", 6, "evil.ckpt", FileType.MODEL,
     lambda: torch_zip(os_system(f"touch {PWNED}")), QUARANTINED, "system"),
    ("builtins-exec-pickle", 6, "exec.pt", FileType.MODEL, lambda: torch_zip(exec_writing(PWNED)), QUARANTINED, "exec"),
    ("zip-bomb", 7, "bomb.ckpt", FileType.MODEL, zip_bomb, QUARANTINED, "zip bombs"),
    ("zip-dotdot-member", 7, "slip.ckpt", FileType.MODEL,
     lambda: torch_zip(BENIGN, extra=[("../../evil.sh", b"rm -rf /")]), QUARANTINED, "outside the archive"),
    ("zip-absolute-member", 7, "abs.ckpt", FileType.MODEL,
     lambda: torch_zip(BENIGN, extra=[("/etc/cron.d/evil", b"x")]), QUARANTINED, "absolute path"),
    ("zip-backslash-member", 7, "win.ckpt", FileType.MODEL,
     lambda: torch_zip(BENIGN, extra=[("..\\..\\evil.bat", b"x")]), QUARANTINED, "backslash"),
    ("zip-symlink-member", 7, "link.ckpt", FileType.MODEL,
     lambda: a_zip(("archive/data.pkl", BENIGN), external_attr=0o120777 << 16), QUARANTINED, "symbolic link"),
    ("zip-encrypted-member", 7, "locked.ckpt", FileType.MODEL,
     lambda: encrypted(torch_zip(BENIGN)), QUARANTINED, "encrypted"),
    ("tar", 8, "weights.ckpt", FileType.MODEL, tar_file, REJECTED, "nsupported"),
    ("gzip", 8, "weights.bin", FileType.MODEL, lambda: gzip.compress(b"x" * 1000), REJECTED, "nsupported"),
    ("7z", 8, "weights.pt", FileType.MODEL, lambda: b"7z\xbc\xaf\x27\x1c" + bytes(600), REJECTED, "nsupported"),
    ("image-50k-by-50k", 9, "bomb.png", FileType.IMAGE,
     lambda: png(50_000, 50_000, idat=zlib.compress(b"\0" * 100)), REJECTED, "50000"),
    ("image-truncated", 9, "cut.png", FileType.IMAGE, lambda: png(64, 64)[:-40], REJECTED, ""),
    ("image-ztxt-bomb", 9, "ztxt.png", FileType.IMAGE,
     lambda: png(before=[png_chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"a" * 50_000_000))]), REJECTED, "embedded text"),
    ("text-after-idat", 10, "odd.png", FileType.IMAGE,
     lambda: png(after=[png_chunk(b"tEXt", b"parameters\0a cat\nSteps: 20")]), READY, ""),
    ("bad-crc", 10, "crc.png", FileType.IMAGE,
     lambda: png(before=[png_chunk(b"tEXt", b"parameters\0a cat", crc=1)]), REJECTED, "damaged"),
    ("infotext-unbalanced", 11, "prompt.png", FileType.IMAGE,
     lambda: png(before=[png_chunk(b"tEXt", b'parameters\0(((a "cat' + b"{" * 5000 + b'\nSteps: 20, Hashes: {"x": ')]),
     READY, ""),
]  # fmt: skip


@pytest.fixture
def bystander(fan, run_on_commit):
    """Another creator's published model: nothing a hostile upload does may change it."""
    with run_on_commit():
        model = make_model(fan, name="Bystander")
    model_file = ModelFile.objects.get(version__model=model)
    return model_file, _snapshot(model_file)


def _snapshot(model_file):
    model_file.refresh_from_db()
    model = AIModel.objects.get(id=model_file.version.model_id)
    return (
        model.name, model.status, model_file.status, model_file.scan_status, model_file.name,
        json.dumps(model_file.metadata, sort_keys=True), model_file.blob.sha256, model_file.blob.storage_key,
    )  # fmt: skip


def _upload(owner, *, name, content, file_type, model_type=ModelType.LORA):
    model = services.create_model(owner=owner, name="Hostile upload", type=model_type)
    version = services.create_version(model=model, name="v1", base_model="SD 1.5")
    model_file = services.add_file(version=version, name=name, content=io.BytesIO(content), type=file_type)
    process_file.apply(args=[model_file.id])
    model_file.refresh_from_db()
    return model_file


@pytest.mark.parametrize(
    "item, name, file_type, build, expected, words",
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_a_hostile_file_ends_rejected_or_quarantined_and_touches_nothing_else(
    creator, bystander, item, name, file_type, build, expected, words
):
    import os

    if os.path.exists(PWNED):
        os.remove(PWNED)
    blobs_before = set(ContentBlob.objects.values_list("sha256", flat=True))
    model_file = _upload(creator, name=name, content=build(), file_type=file_type)
    message = f"{model_file.status_message} {model_file.scan_message}"
    assert model_file.status == expected, (model_file.status, model_file.scan_status, message)
    if expected == QUARANTINED:  # held, never offered: the scan found code, or could not finish
        assert model_file.scan_status in (ScanStatus.QUARANTINED, ScanStatus.ERROR), model_file.scan_status
    assert words.lower() in message.lower(), message
    if model_file.status == FileStatus.REJECTED:
        assert model_file.status_message.strip()
        assert model_file.blob_id is None
        assert set(ContentBlob.objects.values_list("sha256", flat=True)) == blobs_before
    if model_file.status == FileStatus.READY:
        stored = json.dumps(ModelFile.objects.get(id=model_file.id).metadata)
        assert "\\u0000" not in stored and "\\ud800" not in stored
    assert not os.path.exists(PWNED), "a payload ran"
    assert _snapshot(bystander[0]) == bystander[1]


# Items 12 and 19: workflows and wildcard packs are read by the worker for models of those types.
TYPED_CORPUS = [
    ("workflow-deep", 12, ModelType.WORKFLOWS, "deep.json", lambda: b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("workflow-nan", 12, ModelType.WORKFLOWS, "nan.json", lambda: b'{"nodes": [{"id": NaN}], "links": []}', "NaN"),
    ("workflow-not-a-workflow", 12, ModelType.WORKFLOWS, "x.json", lambda: b'{"a": 1}', "not a ComfyUI workflow"),
    ("wildcards-cycle", 19, ModelType.WILDCARDS, "loop.json",
     lambda: json.dumps({"a": ["__b__"], "b": ["__a__"]}).encode(), "cycle"),
    ("wildcards-yaml-aliases", 19, ModelType.WILDCARDS, "bomb.yaml", lambda: b"a: &a [x, x]\nb: [*a, *a]\n", "aliases"),
    ("wildcards-zip-slip", 19, ModelType.WILDCARDS, "evil.zip",
     lambda: a_zip(("../../etc/x.txt", b"a")), "outside the pack"),
]  # fmt: skip


@pytest.mark.parametrize(
    "item, model_type, name, build, words",
    [case[1:] for case in TYPED_CORPUS],
    ids=[case[0] for case in TYPED_CORPUS],
)
def test_a_hostile_workflow_or_wildcard_pack_is_rejected_with_its_reason(
    creator, bystander, item, model_type, name, build, words
):
    model_file = _upload(creator, name=name, content=build(), file_type=FileType.MODEL, model_type=model_type)
    assert model_file.status == FileStatus.REJECTED, (model_file.status, model_file.status_message)
    assert words in model_file.status_message and model_file.blob_id is None
    assert _snapshot(bystander[0]) == bystander[1]


def test_a_re_upload_of_the_same_bytes_shares_one_blob(creator, bystander):
    """Item 22: identical bytes are stored once, whoever uploads them."""
    again = _upload(creator, name="copy.safetensors", content=demo.tiny_lora(), file_type=FileType.MODEL)
    assert again.status == FileStatus.READY
    assert again.blob_id == bystander[0].blob_id
    assert ContentBlob.objects.filter(sha256=again.blob.sha256).count() == 1
    assert _snapshot(bystander[0]) == bystander[1]
