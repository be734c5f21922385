"""Pickle scanning and format sniffing (docs/pickles.md, docs/hostile-input.md).

Every pickle here is assembled by hand from opcodes (or dumped from plain data with pickle.dumps),
because building a torch-shaped or malicious pickle with the real classes would mean importing them.
Nothing in this file ever loads a pickle: pickletools.dis is used only to prove a payload is a
well-formed pickle, which parses it without running it.
"""

import gzip
import io
import pickle
import pickletools
import struct
import tarfile
import zipfile

import pytest

from models_app.files import scanning
from models_app.files.scanning import (
    SNIFF_BYTES,
    ScanResult,
    check_declared_format,
    scan_pickle_file,
    sniff_format,
)

# --- A tiny pickle assembler -------------------------------------------------------------------------


def text(value: str) -> bytes:
    """BINUNICODE: a str constant."""
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def short_text(value: str) -> bytes:
    """SHORT_BINUNICODE then MEMOIZE, as protocol 4+ writes module and attribute names."""
    raw = value.encode()
    return b"\x8c" + bytes([len(raw)]) + raw + b"\x94"


def global_op(module: str, name: str) -> bytes:
    """GLOBAL (protocols 0-3): import module.name."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module: str, name: str) -> bytes:
    """STACK_GLOBAL (protocols 4-5): the names come from the stack."""
    return short_text(module) + short_text(name) + b"\x93"


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args): MARK, the arguments, TUPLE, REDUCE."""
    return func + b"(" + b"".join(args) + b"tR"


def proto2(body: bytes) -> bytes:
    return b"\x80\x02" + body + b"."


def framed(protocol: int, body: bytes) -> bytes:
    """Protocol 4/5 pickle with one FRAME around the body, as pickle.dumps writes it."""
    rest = body + b"."
    return b"\x80" + bytes([protocol]) + b"\x95" + struct.pack("<Q", len(rest)) + rest


def well_formed(data: bytes) -> bytes:
    """Fail the test, not the scanner, if a hand-built payload is not a valid pickle. Parses only."""
    pickletools.dis(data, out=io.StringIO())
    return data


def torch_tensor(key: str, numel: int = 4) -> bytes:
    """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) where the
    storage is the persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)."""
    storage = b"(" + text("storage") + global_op("torch", "FloatStorage") + text(key) + text("cpu")
    storage += b"K" + bytes([numel]) + b"tQ"  # TUPLE, BINPERSID
    return call(
        global_op("torch._utils", "_rebuild_tensor_v2"),
        storage,
        b"K\x00",  # storage offset
        b"K\x02K\x02\x86",  # size (2, 2)
        b"K\x02K\x01\x86",  # stride (2, 1)
        b"\x89",  # requires_grad False
        call(global_op("collections", "OrderedDict")),  # backward hooks
    )


def torch_state_dict(*names: str) -> bytes:
    """An OrderedDict of tensors, the way torch.save writes data.pkl (protocol 2)."""
    items = b"".join(text(name) + torch_tensor(str(i)) for i, name in enumerate(names))
    return well_formed(proto2(call(global_op("collections", "OrderedDict")) + b"(" + items + b"u"))


def torch_zip(data_pkl: bytes, *, extra: list[tuple[str, bytes]] = (), storage: bytes = bytes(16)) -> bytes:
    """The zip layout torch.save writes: archive/data.pkl, archive/data/<key>, archive/version."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/data/0", storage)
        for name, content in extra:
            zf.writestr(name, content)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def os_system(command: str) -> bytes:
    return well_formed(proto2(call(global_op("os", "system"), text(command))))


def exec_writing(path) -> bytes:
    return well_formed(
        proto2(call(global_op("builtins", "exec"), text(f"open({str(path)!r}, 'w').write('x')")))
    )


def scan(data: bytes) -> ScanResult:
    return scan_pickle_file(io.BytesIO(data), len(data))


def imports_block(message: str) -> list[str]:
    """The lines between the ``` fences of a CivitAI-style pickleScanMessage."""
    lines = message.splitlines()
    start = lines.index("```")
    return lines[start + 1 : lines.index("```", start + 1)]


BENIGN = torch_state_dict(
    "model.diffusion_model.input_blocks.0.0.weight", "first_stage_model.decoder.conv.bias"
)


# --- Sniffing ------------------------------------------------------------------------------------------


def _safetensors_head(header: bytes) -> bytes:
    return struct.pack("<Q", len(header)) + header


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_safetensors_head(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), "safetensors"),
        (b"PK\x03\x04" + bytes(60), "zip"),
        (b"\x80\x02}q\x00." + bytes(8), "pickle"),
        (pickle.dumps({"a": 1}, protocol=4), "pickle"),
        (pickle.dumps([1, 2], protocol=5), "pickle"),
        (b"GGUF\x03\x00\x00\x00" + bytes(16), "gguf"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), "7z"),
        (gzip.compress(b"model"), "gzip"),
        (b"just some text, not a model at all", "unknown"),
        (b"", "unknown"),
    ],
)
def test_sniff_names_each_container_from_its_first_bytes(head, expected):
    assert sniff_format(head) == expected


def test_sniff_needs_512_bytes_to_recognise_tar_whose_magic_is_at_offset_257():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("model.ckpt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"abcd"))
    data = buf.getvalue()

    assert sniff_format(data[:SNIFF_BYTES]) == "tar"
    assert SNIFF_BYTES >= 262
    assert sniff_format(data[:16]) == "unknown"


def test_a_safetensors_file_whose_header_length_starts_like_a_pickle_is_still_safetensors():
    # N = 640 is b"\x80\x02\0\0\0\0\0\0": the bytes a protocol-2 pickle starts with.
    header = b'{"__metadata__":{"k":"' + b"v" * 607 + b'"}}'
    head = _safetensors_head(header.ljust(640))
    assert head[:2] == b"\x80\x02"

    assert sniff_format(head) == "safetensors"


# --- Declared extension versus content -----------------------------------------------------------------


def test_a_pickle_named_safetensors_is_refused_and_the_message_says_why():
    sniffed = sniff_format(os_system("true"))

    problem = check_declared_format(".safetensors", sniffed)

    assert sniffed == "pickle"
    assert "named .safetensors" in problem
    assert "pickle" in problem


def test_a_torch_zip_named_safetensors_is_refused():
    problem = check_declared_format(".SafeTensors", sniff_format(torch_zip(BENIGN)))

    assert problem is not None
    assert "not a safetensors file" in problem


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: _tar_bytes(), "TAR archives"),
        (lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(600), "7z archives"),
        (lambda: gzip.compress(BENIGN), "gzip-compressed files"),
    ],
)
@pytest.mark.parametrize("extension", [".ckpt", ".safetensors", ".zip", ".bin"])
def test_tar_7z_and_gzip_are_refused_as_unsupported_whatever_their_name(make, name, extension):
    problem = check_declared_format(extension, sniff_format(make()[:SNIFF_BYTES]))

    assert problem.startswith("Unsupported format")
    assert f"{name} are not accepted" in problem


def _tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("archive/data.pkl")
        info.size = len(BENIGN)
        tar.addfile(info, io.BytesIO(BENIGN))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("extension", "content"),
    [
        (".safetensors", _safetensors_head(b"{}")),
        (".ckpt", torch_zip(BENIGN)),
        (".pt", BENIGN),
        (".pth", torch_zip(BENIGN)),
        (".bin", BENIGN),
        (".gguf", b"GGUF\x03\x00\x00\x00" + bytes(16)),
        (".zip", torch_zip(BENIGN)),
        (".json", b'{"nodes": []}'),
        (".png", b"\x89PNG\r\n\x1a\n" + bytes(16)),
    ],
)
def test_content_that_matches_its_extension_is_accepted(extension, content):
    assert check_declared_format(extension, sniff_format(content[:SNIFF_BYTES])) is None


def test_safetensors_content_named_ckpt_is_refused_with_a_rename_hint():
    problem = check_declared_format(".ckpt", "safetensors")

    assert "Rename it to .safetensors" in problem


@pytest.mark.parametrize("extension", [".json", ".txt", ".png"])
def test_a_pickle_hidden_under_a_text_or_image_extension_is_refused(extension):
    assert check_declared_format(extension, sniff_format(os_system("true"))) is not None


# --- Verdicts on pickles ------------------------------------------------------------------------------


def test_a_torch_zip_checkpoint_with_only_tensor_imports_is_success_with_civitai_style_message():
    result = scan(torch_zip(BENIGN))

    assert result.verdict == "Success"
    assert result.globals == [
        "collections.OrderedDict",
        "torch.FloatStorage",
        "torch._utils._rebuild_tensor_v2",
    ]
    assert result.dangerous == []
    assert result.message == (
        "**Detected Pickle imports (3)**\n"
        "```\n"
        "collections.OrderedDict\n"
        "torch.FloatStorage\n"
        "torch._utils._rebuild_tensor_v2\n"
        "```"
    )


def test_os_system_in_a_torch_zip_is_danger_in_italics_and_the_command_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    data = torch_zip(os_system(f"touch {marker}"))

    result = scan(data)

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]
    assert "*Dangerous import detected*" in result.message.splitlines()
    assert imports_block(result.message) == ["*os.system*"]
    assert not marker.exists()


def test_builtins_exec_is_danger_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    result = scan(exec_writing(marker))

    assert result.verdict == "Danger"
    assert "*builtins.exec*" in imports_block(result.message)
    assert "fickling" in result.message
    assert not marker.exists()


def test_subprocess_popen_next_to_real_tensors_is_danger_and_only_popen_is_in_italics():
    evil = call(global_op("subprocess", "Popen"), text("id"))
    data_pkl = well_formed(
        proto2(
            call(global_op("collections", "OrderedDict"))
            + b"("
            + text("w")
            + torch_tensor("0")
            + b"u0"
            + evil
        )
    )

    result = scan(torch_zip(data_pkl))

    assert result.verdict == "Danger"
    assert result.dangerous == ["subprocess.Popen"]
    assert imports_block(result.message) == [
        "*subprocess.Popen*",
        "collections.OrderedDict",
        "torch.FloatStorage",
        "torch._utils._rebuild_tensor_v2",
    ]
    assert result.message.startswith("**Detected Pickle imports (4)**")


def test_builtins_print_is_not_on_the_allow_list_so_the_file_is_held_as_suspicious():
    result = scan(torch_zip(well_formed(proto2(call(global_op("builtins", "print"), text("hello"))))))

    assert result.verdict == "Danger"
    assert result.dangerous == ["builtins.print"]
    assert "*builtins.print*" in imports_block(result.message)


def test_a_custom_class_from_main_is_held_as_suspicious_not_passed():
    net = well_formed(proto2(global_op("__main__", "Net") + b")\x81"))  # Net.__new__(Net)

    result = scan(torch_zip(net))

    assert result.verdict == "Danger"
    assert result.dangerous == ["__main__.Net"]
    assert "*Import not on the hub's allow-list detected: held for review*" in result.message.splitlines()
    assert "*__main__.Net*" in imports_block(result.message)


@pytest.mark.parametrize("protocol", [4, 5])
def test_stack_global_in_a_raw_protocol_4_or_5_pickle_is_found(protocol, tmp_path):
    marker = tmp_path / "pwned"
    data = well_formed(
        framed(protocol, stack_global("os", "system") + short_text(f"touch {marker}") + b"\x85R")
    )

    result = scan(data)

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_raw_pickle_of_plain_data_has_no_imports_and_passes(protocol):
    data = pickle.dumps({"epoch": 12, "lr": 1e-4, "tags": ["anime", "lora"]}, protocol=protocol)

    result = scan(data)

    assert result.verdict == "Success"
    assert result.globals == []
    assert result.message == "No Pickle imports"


def test_torch_tensors_written_with_stack_global_and_memo_pass():
    ordered_dict = stack_global("collections", "OrderedDict") + b"\x94"  # memo 2 = the class
    storage = b"(" + short_text("storage") + stack_global("torch", "HalfStorage") + short_text("0")
    storage += short_text("cpu") + b"K\x04tQ"
    tensor = call(
        stack_global("torch._utils", "_rebuild_tensor_v2"),
        storage,
        b"K\x00",
        b"K\x04\x85",
        b"K\x01\x85",
        b"\x89",
        b"h\x02)R",  # BINGET 2: OrderedDict again, from the memo
    )
    data = well_formed(framed(4, ordered_dict + b")R" + short_text("w") + tensor + b"s"))

    result = scan(data)

    assert result.verdict == "Success"
    assert result.globals == [
        "collections.OrderedDict",
        "torch.HalfStorage",
        "torch._utils._rebuild_tensor_v2",
    ]


# --- Legacy torch files: concatenated pickles, then raw storages ----------------------------------------


def legacy_torch(object_pickle: bytes, storage_bytes: int = 16) -> bytes:
    magic = pickle.dumps(scanning.LEGACY_TORCH_MAGIC, protocol=2)
    protocol_version = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0"], protocol=2)
    storage = struct.pack("<q", storage_bytes // 4) + bytes(storage_bytes)
    return magic + protocol_version + sys_info + object_pickle + keys + storage


def test_a_legacy_torch_checkpoint_passes_and_its_storages_are_not_read():
    data = legacy_torch(BENIGN, storage_bytes=8 << 20)
    reader = CountingReader(data)

    result = scan_pickle_file(reader, len(data))

    assert result.verdict == "Success"
    assert result.globals == [
        "collections.OrderedDict",
        "torch.FloatStorage",
        "torch._utils._rebuild_tensor_v2",
    ]
    assert reader.bytes_read < 2 << 20  # the 8 MiB storage behind the pickles stays unread


def test_a_payload_in_the_fourth_pickle_of_a_legacy_file_is_found_even_without_a_proto_opcode(tmp_path):
    marker = tmp_path / "pwned"
    protocol_0 = well_formed(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")

    result = scan(legacy_torch(protocol_0))

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]
    assert not marker.exists()


def test_tensor_bytes_after_a_legacy_files_five_pickles_are_not_mistaken_for_a_pickle():
    # torch reads legacy storages with plain reads after the fifth pickle; these bytes happen to
    # spell a protocol-0 pickle, as random tensor data occasionally could.
    data = legacy_torch(BENIGN)
    storages_at = data.rindex(struct.pack("<q", 4))
    data = data[:storages_at] + b"cos\nsystem\n(S'id'\ntR."

    result = scan(data)

    assert result.verdict == "Success"
    assert "os.system" not in result.message


def test_a_legacy_file_cut_short_inside_its_pickles_is_an_error():
    data = legacy_torch(BENIGN)
    cut = data[: data.index(BENIGN) + len(BENIGN) // 2]

    result = scan(cut)

    assert result.verdict == "Error"
    assert "not a valid pickle" in result.message


def test_a_pickle_appended_after_a_harmless_one_is_scanned_too():
    result = scan(pickle.dumps({"a": 1}, protocol=2) + os_system("id"))

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]


def test_a_pickle_that_carries_an_empty_zip_end_record_is_not_waved_through():
    # picklescan's scan_bytes() asks zipfile first, treats this as an empty zip and reports nothing.
    end_record = b"PK\x05\x06" + bytes(18)
    data = well_formed(
        proto2(
            call(global_op("os", "system"), text("id"))
            + b"0C"
            + bytes([len(end_record)])
            + end_record
            + b"0N"
        )
    )

    result = scan(data)

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]


def test_a_pickle_with_a_zip_glued_to_its_end_is_refused_as_a_polyglot():
    data = pickle.dumps({"a": 1}, protocol=2) + torch_zip(BENIGN)

    result = scan(data)

    assert result.verdict == "Error"
    assert "polyglot" in result.message


def test_a_pickle_larger_than_the_scan_cap_is_an_error_that_names_the_cap(monkeypatch):
    monkeypatch.setattr(scanning, "MAX_PICKLE_BYTES", 1 << 20)
    data = well_formed(proto2(b"B" + struct.pack("<I", 2 << 20) + bytes(2 << 20)))

    result = scan(data)

    assert result.verdict == "Error"
    assert "larger than the 1 MiB the scanner reads" in result.message


def test_a_pickle_with_too_many_operations_is_an_error_but_its_imports_are_still_named(monkeypatch):
    monkeypatch.setattr(scanning, "MAX_PICKLE_OPCODES", 1_000)
    data = well_formed(proto2(call(global_op("os", "system"), text("id")) + b"N0" * 1_000))

    result = scan(data)

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]
    assert "more pickle operations than the scanner analyses (1,000 per pickle" in result.message


def test_a_harmless_pickle_with_too_many_operations_is_an_error(monkeypatch):
    monkeypatch.setattr(scanning, "MAX_PICKLE_OPCODES", 1_000)

    result = scan(pickle.dumps(list(range(2_000)), protocol=4))

    assert result.verdict == "Error"
    assert "more pickle operations than the scanner analyses" in result.message


# --- Zip members -----------------------------------------------------------------------------------------


def test_a_pickle_in_a_member_without_pkl_extension_is_found_by_its_magic():
    result = scan(torch_zip(BENIGN, extra=[("archive/extra/state.bin", os_system("id"))]))

    assert result.verdict == "Danger"
    assert result.dangerous == ["os.system"]


def test_a_pkl_member_that_is_not_a_pickle_is_an_error():
    result = scan(torch_zip(b"this is not a pickle"))

    assert result.verdict == "Error"
    assert "'archive/data.pkl' is not a valid pickle" in result.message


def test_a_zip_is_read_through_its_directory_not_its_tensor_data():
    # On S3 every read is a range request: 300 storages must not cost 300 requests.
    storages = [(f"archive/data/{key}", bytes(64)) for key in range(1, 300)]
    data = torch_zip(BENIGN, storage=bytes(16 << 20), extra=storages)
    reader = CountingReader(data)

    result = scan_pickle_file(reader, len(data))

    assert result.verdict == "Success"
    assert reader.bytes_read < 1 << 20
    assert reader.reads < 100


def _zip(members: list, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip of (name or ZipInfo, content) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in members:
            zf.writestr(name, content)
    return buf.getvalue()


def _encrypted_flag(data: bytes, name: str) -> bytes:
    """Set the 'encrypted' bit of `name` in its local header and its central directory entry."""
    out = bytearray(data)
    raw = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = out.find(signature)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(raw)] == raw:
                out[pos + flag_at] |= 0x01
            pos = out.find(signature, pos + 1)
    return bytes(out)


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


ZIP_ATTACKS = {
    "bomb": (
        lambda: _zip(
            [("archive/data.pkl", BENIGN), ("archive/data/0", bytes(8 << 20))], zipfile.ZIP_DEFLATED
        ),
        "which is how zip bombs work",
    ),
    "member count": (
        lambda: _zip([("archive/data.pkl", BENIGN)] + [(f"archive/data/{i}", b"") for i in range(10_000)]),
        "the zip archive has 10,001 members, more than the 10,000 allowed.",
    ),
    "dot-dot": (lambda: _zip([("archive/../../evil.pkl", BENIGN)]), "contains '..'"),
    "absolute": (lambda: _zip([("/etc/cron.d/evil.pkl", BENIGN)]), "is an absolute path"),
    "backslash": (lambda: _zip([("archive\\..\\evil.pkl", BENIGN)]), "contains a backslash"),
    "drive letter": (lambda: _zip([("C:/Windows/evil.pkl", BENIGN)]), "starts with a drive letter"),
    "NUL": (
        lambda: _zip([("archive/dataQ.pkl", BENIGN)]).replace(b"archive/dataQ", b"archive/data\x00"),
        "contains a NUL character",
    ),
    "encrypted": (
        lambda: _encrypted_flag(torch_zip(BENIGN), "archive/data.pkl"),
        "'archive/data.pkl' is encrypted",
    ),
    "nested zip by content": (
        lambda: torch_zip(BENIGN, extra=[("archive/extra/blob", torch_zip(os_system("id")))]),
        "is itself a zip archive; nested archives are not accepted",
    ),
    "nested archive by name": (
        lambda: torch_zip(BENIGN, extra=[("archive/weights.tar.gz", b"not really")]),
        "nested archives are not accepted",
    ),
    "symlink": (lambda: _zip([(_symlink("archive/data.pkl"), b"/etc/passwd")]), "is a symbolic link"),
    "duplicate names": (
        lambda: _zip([("archive/data.pkl", BENIGN), ("archive/data.pkl", os_system("id"))]),
        "has two members named 'archive/data.pkl'",
    ),
}


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zipfile warns while building it
@pytest.mark.parametrize("attack", ZIP_ATTACKS, ids=list(ZIP_ATTACKS))
def test_zip_attacks_are_refused_with_a_reason_before_any_pickle_is_read(attack, monkeypatch):
    make, reason = ZIP_ATTACKS[attack]
    data = make()
    pickles_parsed = []
    monkeypatch.setattr(scanning, "_scan_bytes", lambda *args, **kwargs: pickles_parsed.append(args))

    result = scan(data)

    assert result.verdict == "Error"
    assert result.message.startswith("This file could not be scanned: ")
    assert reason in result.message
    assert pickles_parsed == []


def test_a_deflated_member_under_one_mib_is_not_mistaken_for_a_bomb():
    data = _zip([("archive/data.pkl", BENIGN), ("archive/notes.txt", b"a" * 60_000)], zipfile.ZIP_DEFLATED)

    assert scan(data).verdict == "Success"


# --- Garbage in, a verdict out -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x02" + bytes(range(256)) * 4,
        b"\x80\x04garbage\xff\xfe",
        BENIGN[: len(BENIGN) // 2],
        b"\x80\x02",
        b"hello, not a model",
        b"PK\x03\x04" + b"\xff" * 100,
        bytes(32),
    ],
    ids=["random-after-proto", "bad-opcodes", "truncated", "proto-only", "text", "broken-zip", "zeros"],
)
def test_garbage_bytes_give_an_error_verdict_not_an_exception(data):
    result = scan(data)

    assert result.verdict == "Error"
    assert result.message.startswith("This file could not be scanned: ")


def test_an_empty_file_is_an_error():
    result = scan_pickle_file(io.BytesIO(b""), 0)

    assert result.verdict == "Error"
    assert "empty" in result.message


def test_a_storage_failure_propagates_so_the_worker_retries_instead_of_quarantining():
    class FailingReader(CountingReader):
        def read(self, n=-1):
            if self.tell() > 0:
                raise ConnectionResetError("storage went away")
            return super().read(n)

    data = torch_zip(BENIGN)

    with pytest.raises(ConnectionResetError):
        scan_pickle_file(FailingReader(data), len(data))


def test_hostile_global_names_cannot_break_out_of_the_message_code_block():
    name = "x`\n```\n**Click [here](https://evil.example)**\x00"
    data = well_formed(framed(4, stack_global("evil", name) + b")R"))

    result = scan(data)

    assert result.verdict == "Danger"
    assert result.message.count("```") == 2
    assert "\n**Click" not in result.message
    assert all("\x00" not in g for g in result.globals)


class CountingReader(io.BytesIO):
    """A seekable file that counts the bytes handed out, standing in for ranged reads from S3."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0
        self.reads = 0

    def read(self, n=-1):
        data = super().read(n)
        self.bytes_read += len(data)
        self.reads += 1
        return data
