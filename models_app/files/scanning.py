"""What a model file is, and whether its pickles are safe to offer for download (docs/pickles.md).

Nothing here unpickles. Pickle bytes are only *parsed* (pickletools.genops, picklescan, fickling's
symbolic interpreter); no pickle.load, torch.load, numpy.load or fickling.load ever runs on an upload,
because unpickling an upload runs the uploader's code (GLOBAL/STACK_GLOBAL/INST import any callable,
REDUCE/BUILD/OBJ/NEWOBJ call it).

The file object may be a remote object read through HTTP range requests, so only what is needed is
read: a zip's end record and central directory, the first bytes of members that are not tensor
storages, the pickle members themselves; for a raw or legacy torch pickle, the pickles at the front
(at most MAX_PICKLE_BYTES), never the tensor data behind them.

Verdicts are CivitAI's pickleScanResult values:
- "Success": every global is on the hub's allow-list and fickling sees nothing overtly malicious.
- "Danger": a deny-listed global, any global that is not on the allow-list (fail closed: a custom
  class such as `__main__.Net` or even `builtins.print` is held for review), or fickling rates the
  pickle LIKELY_OVERTLY_MALICIOUS or worse.
- "Error": the file could not be scanned (damaged pickle, zip limit hit, scanner crash); the message
  says why in a sentence the creator can act on.

This module must stay free of Django imports, like hashing.py.
"""

import io
import logging
import pickletools
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from fickling.analysis import Severity, check_safety
from fickling.fickle import Pickled
from picklescan.scanner import SafetyLevel, scan_pickle_bytes

log = logging.getLogger(__name__)

# How many leading bytes callers pass to sniff_format(): TAR's "ustar" magic sits at offset 257, so
# anything under 262 bytes cannot recognise TAR. 512 is one TAR block and one cheap range request.
SNIFF_BYTES = 512

# --- Limits. A zip is judged on its central directory before any member is opened.
MAX_ZIP_MEMBERS = 10_000
# The central directory is read whole by zipfile; 10,000 torch members need well under 1 MiB.
MAX_CENTRAL_DIRECTORY_BYTES = 8 << 20
# Per member and in total, as declared by the central directory. Uploads are capped at 20 GiB, so
# stored (uncompressed) members always fit; these stop archives that would expand beyond any model.
MAX_MEMBER_SIZE = 32 << 30
MAX_TOTAL_UNCOMPRESSED = 64 << 30
# Over 100:1 is a zip bomb for our purposes. Below 1 MiB expanded, a high ratio can do no harm
# (a 600-byte text file of repeated characters compresses 100:1 too).
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_SIZE = 1 << 20
# The most pickle bytes read from one zip member or from the front of a raw/legacy pickle file.
# A torch data.pkl for a 2,500-tensor SDXL checkpoint is a few hundred KB.
MAX_PICKLE_BYTES = 64 << 20
# Pickles concatenated in one stream (a legacy torch file has 5, then raw tensor storages).
MAX_PICKLES_PER_STREAM = 100
# Opcodes per pickle and per file. torch writes about 25 per tensor, so one million is 40,000 tensors.
# picklescan keeps every opcode in a list (about 100 MB and 4 s per million here), and fickling
# calls a pickle over one million opcodes an expansion attack, so larger ones are an Error instead.
MAX_PICKLE_OPCODES = 1_000_000
MAX_TOTAL_OPCODES = 5_000_000

READ_CHUNK = 1 << 20
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
LEGACY_TORCH_PICKLES = 5  # magic number, protocol version, sys info, the object, storage keys

# --- Hub policy (docs/pickles.md#scanning-and-policy): allowed globals; everything else is Danger.
_TORCH_STORAGES = (
    "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble "
    "QUInt8 QInt8 QInt32 QUInt4x2 QUInt2x4"
).split()
_TORCH_DTYPES = (
    "float32 float64 float16 bfloat16 uint8 int8 int16 int32 int64 uint16 uint32 uint64 bool "
    "complex32 complex64 complex128 float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz "
    "qint8 quint8 qint32 quint4x2 quint2x4"
).split()
ALLOWED_GLOBALS = frozenset(
    {
        # picklescan's safe list
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        *(f"torch.{kind}Storage" for kind in _TORCH_STORAGES),
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        # what torch itself writes for plain tensors, parameters, shapes, devices and dtypes
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter",
        "torch.Size",
        "torch.device",
        *(f"torch.{dtype}" for dtype in _TORCH_DTYPES),
        # reviewed: needed by common training checkpoints (numpy scalars in optimizer/trainer state),
        # none of them can call arbitrary code with arguments a pickle controls.
        "collections.defaultdict",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "_codecs.encode",
    }
)
# Deny-listed in addition to whatever picklescan rates Dangerous (its list is longer), so a global is
# called dangerous even where picklescan's parser and fickling's disagree about what was imported.
_DENIED_MODULES = frozenset(
    "os posix nt subprocess sys socket shutil runpy pickle _pickle webbrowser ctypes asyncio pdb pty "
    "pip code types urllib.request requests.api".split()
)
_DENIED_GLOBALS = frozenset(
    {
        *(f"builtins.{n}" for n in "eval exec compile open getattr apply breakpoint __import__".split()),
        "functools.partial",
        *(
            f"{m}.{n}"
            for m in ("operator", "_operator")
            for n in ("attrgetter", "itemgetter", "methodcaller")
        ),
        "torch.serialization.load",
        "torch.load",
        # CivitAI flags this one explicitly.
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
    }
)

_FORMAT_LABELS = {
    "safetensors": "a safetensors file",
    "zip": "a zip archive (a PyTorch checkpoint or another archive)",
    "pickle": "a Python pickle (a legacy PyTorch checkpoint)",
    "gguf": "a GGUF file",
    "7z": "a 7z archive",
    "tar": "a TAR archive",
    "gzip": "a gzip-compressed file",
    "unknown": "not a format the hub recognises",
}
_UNSUPPORTED = {"7z": "7z archives", "tar": "TAR archives", "gzip": "gzip-compressed files"}
_PICKLE_EXTENSIONS = {".ckpt", ".pt", ".pth", ".bin"}
# Extensions whose content is checked elsewhere (text, images); they must not hide a model file.
_NON_MODEL_EXTENSIONS = {".json", ".yaml", ".yml", ".txt", ".png", ".jpg", ".jpeg", ".webp", ".mp4", ".webm"}

_ERROR_PREFIX = "This file could not be scanned: "


@dataclass
class ScanResult:
    """The outcome of scan_pickle_file().

    verdict: "Success", "Danger" or "Error" (CivitAI's pickleScanResult).
    globals: every imported global as "module.name", sorted.
    dangerous: the globals that made the verdict Danger (deny-listed or not on the allow-list).
    message: Markdown in CivitAI's pickleScanMessage style, or for Error a sentence saying why.
    """

    verdict: str
    globals: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    message: str | None = None


# --------------------------------------------------------------------------------------------------
# Sniffing


def sniff_format(head: bytes) -> str:
    """Name the container from the file's first bytes; the extension is ignored.

    Pass at least 16 bytes, and SNIFF_BYTES (512) to recognise TAR, whose magic is at offset 257.
    Returns one of "safetensors", "zip", "pickle", "gguf", "7z", "tar", "gzip", "unknown".
    safetensors is tried first: a legitimate 640-byte header length starts with b"\\x80\\x02", which
    would otherwise look like a pickle (as a pickle it is invalid: opcode 0x00 follows).
    """
    head = bytes(head[:SNIFF_BYTES])
    if len(head) >= 9 and head[8:9] == b"{":
        (header_len,) = struct.unpack("<Q", head[:8])
        # Plausible: at least "{}", at most the reference library's own cap. The strict reader
        # (docs/safetensors.md#validation-rules) applies the hub's tighter 16 MiB rule and names it.
        if 2 <= header_len <= 100_000_000:
            return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return "unknown"


def check_declared_format(declared_extension: str, sniffed: str) -> str | None:
    """A user-readable reason to refuse the file when its content does not match its name, else None.

    A pickle renamed .safetensors is the classic trap: tools that trust the extension would
    torch.load it. TAR, 7z and gzip are refused whatever the name.
    """
    ext = (declared_extension or "").strip().lower()
    if ext and not ext.startswith("."):
        ext = "." + ext
    if sniffed in _UNSUPPORTED:
        return (
            f"Unsupported format: this file is {_FORMAT_LABELS[sniffed]}, and {_UNSUPPORTED[sniffed]} are "
            "not accepted. Upload the model file itself (.safetensors preferred) or a .zip archive."
        )
    found = _FORMAT_LABELS.get(sniffed, _FORMAT_LABELS["unknown"])
    if ext == ".safetensors" and sniffed != "safetensors":
        advice = (
            " Pickle files can run code when loaded, so one must never be named .safetensors. "
            "Convert it to safetensors, or upload it under its real extension (.ckpt or .pt)."
            if sniffed in ("pickle", "zip")
            else " Check that you picked the right file."
        )
        return f"This file is named {ext} but its content is {found}, not a safetensors file.{advice}"
    if ext in _PICKLE_EXTENSIONS and sniffed not in ("zip", "pickle"):
        advice = (
            " Rename it to .safetensors and upload it again."
            if sniffed == "safetensors"
            else " Check that you picked the right file."
        )
        return (
            f"This file is named {ext}, which means a PyTorch checkpoint, but its content is {found}.{advice}"
        )
    if ext == ".gguf" and sniffed != "gguf":
        return f"This file is named .gguf but its content is {found}, not a GGUF file."
    if ext == ".zip" and sniffed != "zip":
        return f"This file is named .zip but its content is {found}, not a zip archive."
    if ext in _NON_MODEL_EXTENSIONS and sniffed in ("safetensors", "zip", "pickle", "gguf"):
        return f"This file is named {ext} but its content is {found}. Upload model files under their real extension."
    return None


# --------------------------------------------------------------------------------------------------
# Scanning


class _Unscannable(Exception):
    """A reason, for the creator, why the file cannot be scanned."""


class _SourceError(Exception):
    """Reading the upload itself failed (storage hiccup): not a verdict, the caller should retry."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


class _Source(io.RawIOBase):
    """The caller's file, with its own read errors marked so parser crashes and storage failures are
    told apart, and seeks clamped to the file so zipfile never asks for a negative offset."""

    def __init__(self, f: BinaryIO, size: int):
        super().__init__()
        self._f = f
        self._size = size
        self._pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = min(max(0, base + offset), self._size)
        return self._pos

    def read(self, n=-1):
        if n is None or n < 0:
            n = self._size - self._pos
        n = min(n, self._size - self._pos)
        if n <= 0:
            return b""
        try:
            self._f.seek(self._pos)
            data = self._f.read(n)
        except Exception as exc:
            raise _SourceError(exc) from exc
        self._pos += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Prefix:
    """The front of a stream, read on demand in READ_CHUNK pieces up to `limit` bytes and kept, so that
    pickletools can parse it and the exact pickle bytes can then be handed to the scanners."""

    def __init__(self, stream, limit: int, total: int):
        self._stream = stream
        self.limit = min(limit, total)
        self.total = total
        self.buf = bytearray()
        self.pos = 0
        self._eof = False
        self.limit_hit = False

    def _fill(self, upto: int) -> None:
        if upto > self.limit and self.total > self.limit:
            self.limit_hit = True
        upto = min(upto, self.limit)
        while len(self.buf) < upto and not self._eof:
            # Start small (most pickles are a few KB; each read may be a range request), then grow.
            step = min(READ_CHUNK, max(64 << 10, len(self.buf)))
            data = self._stream.read(min(max(step, upto - len(self.buf)), self.limit - len(self.buf)))
            if not data:
                self._eof = True
            self.buf += data

    def at_end(self) -> bool:
        self._fill(self.pos + 1)
        return self.pos >= len(self.buf)

    def read(self, n: int = -1) -> bytes:
        end = self.limit if n is None or n < 0 else self.pos + n
        self._fill(end)
        data = bytes(self.buf[self.pos : end])
        self.pos += len(data)
        return data

    def readline(self) -> bytes:
        while True:
            newline = self.buf.find(b"\n", self.pos)
            if newline >= 0:
                return self.read(newline + 1 - self.pos)
            before = len(self.buf)
            self._fill(before + READ_CHUNK)
            if len(self.buf) == before:
                return self.read()

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        self.pos = pos if whence == io.SEEK_SET else self.pos + pos
        return self.pos


class _ParseFailure(Exception):
    def __init__(self, reason: str, end: int, imports_seen: bool, limit_hit: bool, too_long: bool = False):
        super().__init__(reason)
        self.reason, self.end, self.imports_seen = reason, end, imports_seen
        self.limit_hit, self.too_long = limit_hit, too_long


@dataclass
class _Findings:
    globals: dict = field(default_factory=dict)  # (module, name) -> picklescan SafetyLevel or None
    fickling: Severity = field(default_factory=lambda: Severity.LIKELY_SAFE)  # Severity is unhashable
    opcodes: int = 0
    problems: list[str] = field(default_factory=list)


def scan_pickle_file(f: BinaryIO, size: int) -> ScanResult:
    """Scan a torch zip, a legacy torch file or a raw pickle without unpickling anything.

    f must be seekable; only the zip directory, small members and the pickles are read. Storage
    errors raised by f propagate unchanged (the caller retries); anything wrong with the file itself
    becomes a verdict, never an exception.
    """
    src = _Source(f, size)
    try:
        if size <= 0:
            raise _Unscannable("the file is empty.")
        kind = sniff_format(src.read(SNIFF_BYTES))
        src.seek(0)
        if kind == "zip":
            findings = _scan_zip(src)
        elif kind == "pickle":
            findings = _Findings()
            _scan_stream(_Prefix(src, MAX_PICKLE_BYTES, size), "it", findings, top_level=True)
            src.seek(0)
            if _is_also_zip(src):
                findings.problems.append(
                    "the file is a pickle and a zip archive at the same time (a polyglot), so different "
                    "tools would load different contents."
                )
        else:
            raise _Unscannable(
                f"it is neither a pickle nor a zip archive; its content is {_FORMAT_LABELS[kind]}."
            )
        return _verdict(findings)
    except _SourceError as exc:
        raise exc.original from None
    except _Unscannable as exc:
        return ScanResult("Error", [], [], _ERROR_PREFIX + str(exc))
    except Exception as exc:  # a parser crashing on hostile bytes is a verdict, not a 500
        log.warning("pickle scan failed", exc_info=True)
        return ScanResult(
            "Error", [], [], f"{_ERROR_PREFIX}the scanner failed on its content ({type(exc).__name__})."
        )


def _is_also_zip(src: _Source) -> bool:
    """True when the bytes also open as a zip with members (zip readers start from the end)."""
    try:
        endrec = zipfile._EndRecData(src)  # the end record only: one small read at the file's end
        if not endrec or endrec[zipfile._ECD_ENTRIES_TOTAL] == 0:
            return False
        if endrec[zipfile._ECD_SIZE] > MAX_CENTRAL_DIRECTORY_BYTES:
            return True
        with zipfile.ZipFile(src) as zf:
            return bool(zf.infolist())
    except _SourceError:
        raise
    except Exception:
        return False


def _scan_zip(src: _Source) -> _Findings:
    # The end record first: zipfile reads the whole central directory into memory, so its size and
    # the member count are checked before zipfile is allowed to parse it.
    try:
        endrec = zipfile._EndRecData(src)
    except _SourceError:
        raise
    except Exception:
        endrec = None
    if not endrec:
        raise _Unscannable("the zip archive is damaged (its central directory is missing).")
    declared = endrec[zipfile._ECD_ENTRIES_TOTAL]
    if declared > MAX_ZIP_MEMBERS:
        raise _Unscannable(_too_many_members(declared))
    if endrec[zipfile._ECD_SIZE] > MAX_CENTRAL_DIRECTORY_BYTES:
        raise _Unscannable(
            f"the zip archive's directory is {endrec[zipfile._ECD_SIZE]:,} bytes, more than the "
            f"{MAX_CENTRAL_DIRECTORY_BYTES:,} allowed."
        )
    try:
        zf = zipfile.ZipFile(src)
    except _SourceError:
        raise
    except NotImplementedError as exc:
        raise _Unscannable(f"the zip archive uses a feature the scanner cannot read ({exc}).") from None
    except Exception as exc:
        raise _Unscannable(f"the zip archive is damaged ({exc}).") from None
    with zf:
        infos = zf.infolist()
        _check_members(infos)
        # Every member's first bytes are checked before any pickle is parsed, so a nested archive
        # is refused whatever its place in the directory.
        pickles = []
        storages = _torch_storage_names(infos)
        for info in infos:
            if info.is_dir() or info.filename in storages:
                continue
            head = _member_head(zf, info)
            nested = _archive_magic(head)
            if nested:
                raise _Unscannable(
                    f"the zip member {_shown(info.orig_filename)} is itself {nested}; nested archives are not accepted."
                )
            is_pkl = info.orig_filename.lower().endswith((".pkl", ".pickle"))
            if is_pkl or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5):
                pickles.append((info, is_pkl))
        findings = _Findings()
        for info, is_pkl in pickles:
            with zf.open(info) as member:
                stream = _Prefix(member, MAX_PICKLE_BYTES, info.file_size)
                _scan_stream(
                    stream, f"the zip member {_shown(info.orig_filename)}", findings, strict_first=is_pkl
                )
    return findings


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as member:
            return member.read(SNIFF_BYTES)
    except _SourceError:
        raise
    except NotImplementedError as exc:
        raise _Unscannable(
            f"the zip member {_shown(info.orig_filename)} uses {exc}, which the scanner cannot read."
        ) from None
    except Exception as exc:
        raise _Unscannable(f"the zip member {_shown(info.orig_filename)} is damaged ({exc}).") from None


def _too_many_members(count: int) -> str:
    return f"the zip archive has {count:,} members, more than the {MAX_ZIP_MEMBERS:,} allowed."


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    """Every check that needs only the central directory, before any member is opened."""
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _Unscannable(_too_many_members(len(infos)))
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename  # zipfile cuts .filename at a NUL; the original keeps it
        shown = _shown(name)
        if "\x00" in name:
            raise _Unscannable(f"the zip member name {shown} contains a NUL character.")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
            raise _Unscannable(f"the zip member name {shown} contains control characters.")
        if "\\" in name:
            raise _Unscannable(f"the zip member name {shown} contains a backslash; zip paths use '/'.")
        if name.startswith("/"):
            raise _Unscannable(f"the zip member name {shown} is an absolute path.")
        if re.match(r"^[A-Za-z]:", name):
            raise _Unscannable(f"the zip member name {shown} starts with a drive letter.")
        if ".." in name.split("/"):
            raise _Unscannable(
                f"the zip member name {shown} contains '..', which points outside the archive."
            )
        if name in seen:
            raise _Unscannable(f"the zip archive has two members named {shown}.")
        seen.add(name)
        if info.flag_bits & 0x41:  # 0x01 encrypted, 0x40 strong encryption
            raise _Unscannable(f"the zip member {shown} is encrypted.")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise _Unscannable(f"the zip member {shown} is a symbolic link.")
        if info.file_size > MAX_MEMBER_SIZE:
            raise _Unscannable(
                f"the zip member {shown} expands to {info.file_size:,} bytes, more than the "
                f"{MAX_MEMBER_SIZE:,} allowed."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECK_MIN_SIZE and ratio > MAX_COMPRESSION_RATIO:
            raise _Unscannable(
                f"the zip member {shown} would expand from {info.compress_size:,} to {info.file_size:,} "
                f"bytes (a ratio of {ratio:,.0f}:1, more than the {MAX_COMPRESSION_RATIO}:1 allowed), "
                "which is how zip bombs work."
            )
        total += info.file_size
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise _Unscannable(
            f"the zip archive expands to {total:,} bytes in total, more than the {MAX_TOTAL_UNCOMPRESSED:,} allowed."
        )
    nested = [info.orig_filename for info in infos if _NESTED_NAME.search(info.orig_filename)]
    if nested:
        raise _Unscannable(
            f"the zip member {_shown(nested[0])} is an archive; nested archives are not accepted."
        )


_NESTED_NAME = re.compile(r"\.(zip|7z|tar|tgz|gz|bz2|xz|zst|rar|npz)$", re.IGNORECASE)


def _torch_storage_names(infos: list[zipfile.ZipInfo]) -> set[str]:
    """`<prefix>/data/<key>` members next to a `<prefix>/data.pkl`: raw tensor bytes that torch reads
    with plain reads, never unpickles. Their first bytes are not fetched (one range request each on
    remote storage, for an SD checkpoint over a thousand); the directory checks still apply."""
    names = {info.orig_filename for info in infos}
    storages = set()
    for info in infos:
        folder, _, key = info.orig_filename.rpartition("/")
        prefix = folder[: -len("data")]
        if (
            key
            and folder.endswith("/data")
            and prefix + "data.pkl" in names
            and not key.lower().endswith((".pkl", ".pickle"))
        ):
            storages.add(info.filename)
    return storages


def _archive_magic(head: bytes) -> str | None:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "a zip archive"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "a 7z archive"
    if head[257:262] == b"ustar":
        return "a TAR archive"
    if head.startswith(b"\x1f\x8b\x08"):
        return "a gzip file"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "an xz file"
    if head.startswith(b"Rar!\x1a\x07"):
        return "a RAR archive"
    return None


def _scan_stream(
    stream: _Prefix, where: str, findings: _Findings, *, top_level: bool = False, strict_first: bool = True
) -> None:
    """Scan the pickles at the front of a stream.

    A legacy torch file (first pickle = torch's magic number) holds exactly five pickles, then raw
    storages, which are not read. Otherwise the first pickle must parse; pickles concatenated after it
    are scanned too (a loader may call load() again), and trailing bytes that are not a pickle are
    ignored unless they already import something before breaking.
    """
    segments = 0
    legacy = False
    while True:
        start = stream.tell()
        strict = (segments == 0 and strict_first) or (legacy and segments < LEGACY_TORCH_PICKLES)
        budget = min(MAX_PICKLE_OPCODES, MAX_TOTAL_OPCODES - findings.opcodes)
        try:
            end, first_ops, count = _parse_one(stream, budget)
        except _ParseFailure as failure:
            findings.opcodes += budget if failure.too_long else 0
            if failure.too_long:
                findings.problems.append(
                    f"{where} holds more pickle operations than the scanner analyses "
                    f"({MAX_PICKLE_OPCODES:,} per pickle, {MAX_TOTAL_OPCODES:,} per file)."
                )
            elif failure.limit_hit and (strict or failure.imports_seen):
                findings.problems.append(
                    f"{where} holds a pickle larger than the {MAX_PICKLE_BYTES // (1 << 20)} MiB the scanner "
                    "reads, so it was not scanned to the end."
                )
            elif strict:
                findings.problems.append(f"{where} is not a valid pickle ({failure.reason}).")
            elif failure.imports_seen:
                findings.problems.append(f"{where} has damaged pickle data after its first pickle.")
            if failure.imports_seen:
                # A loader would already have imported (and called) these before hitting the damage.
                _scan_bytes(bytes(stream.buf[start : failure.end]), where, findings, partial=True)
            return
        segments += 1
        findings.opcodes += count
        if segments == 1 and top_level:
            legacy = _is_legacy_magic(first_ops)
        _scan_bytes(bytes(stream.buf[start:end]), where, findings)
        if legacy and segments == LEGACY_TORCH_PICKLES:
            return
        if stream.at_end():
            if legacy:
                findings.problems.append(f"{where} ends before the five pickles of a legacy PyTorch file.")
            return
        if segments >= MAX_PICKLES_PER_STREAM:
            findings.problems.append(f"{where} holds more than {MAX_PICKLES_PER_STREAM} pickles in a row.")
            return


def _parse_one(stream: _Prefix, budget: int) -> tuple[int, list, int]:
    """Walk one pickle's opcodes up to STOP without executing them.

    Returns its end, its first opcodes and the opcode count; raises _ParseFailure when the bytes are
    not a whole pickle or it has more than `budget` opcodes.
    """
    imports_seen = False
    first_ops: list = []
    count = 0
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            count += 1
            if count > budget:
                raise _ParseFailure("too many operations", stream.tell(), imports_seen, False, too_long=True)
            if opcode.name in ("GLOBAL", "STACK_GLOBAL", "INST"):
                imports_seen = True
            if len(first_ops) < 4:
                first_ops.append((opcode.name, arg))
    except (_SourceError, _ParseFailure):
        raise
    except Exception as exc:  # genops raises ValueError mostly; anything else is just as unparsable
        reason = str(exc) or type(exc).__name__
        raise _ParseFailure(reason[:200], stream.tell(), imports_seen, stream.limit_hit) from None
    if not first_ops:
        raise _ParseFailure("no data", stream.tell(), False, stream.limit_hit)
    return stream.tell(), first_ops, count


def _is_legacy_magic(ops: list) -> bool:
    values = [arg for name, arg in ops if name in ("LONG1", "LONG4", "LONG", "INT")]
    return values == [LEGACY_TORCH_MAGIC] and ops[-1][0] == "STOP"


def _scan_bytes(data: bytes, where: str, findings: _Findings, *, partial: bool = False) -> None:
    """Both scanners on one pickle's bytes. picklescan's scan_pickle_bytes is used directly: its
    scan_bytes() first asks zipfile whether the bytes are a zip, and a pickle that carries an empty
    zip end record in a string constant is then 'scanned' as an empty zip and passes clean."""
    if not data:
        return
    try:
        result = scan_pickle_bytes(io.BytesIO(data), where, multiple_pickles=False)
    except Exception as exc:
        findings.problems.append(f"picklescan could not read the imports of {where} ({type(exc).__name__}).")
    else:
        for g in result.globals:
            key = (str(g.module), str(g.name))
            if findings.globals.get(key) is not SafetyLevel.Dangerous:
                findings.globals[key] = g.safety
    if partial:
        return  # fickling refuses a pickle without its STOP; picklescan has named what it imports
    # fickling as a second parser and opinion; its default analyses include expansion attacks and
    # overtly bad calls. Its verdict on torch imports is ignored: the hub's allow-list decides those.
    try:
        pickled = Pickled.load(data)
        severity = check_safety(pickled).severity
        imports = pickled.properties.imports
    except Exception as exc:
        findings.problems.append(f"fickling could not analyse {where} ({type(exc).__name__}).")
        return
    if severity > findings.fickling:
        findings.fickling = severity
    for node in imports:
        module = getattr(node, "module", None)
        for alias in node.names:
            if module is None:
                module_name, _, name = alias.name.rpartition(".")
                key = (module_name, name)
            else:
                key = (module, alias.name)
            findings.globals.setdefault(key, None)


def _is_denied(module: str, name: str, picklescan_safety) -> bool:
    if picklescan_safety is SafetyLevel.Dangerous:
        return True
    if module == "__builtin__":
        module = "builtins"
    parts = module.split(".")
    if any(".".join(parts[: i + 1]) in _DENIED_MODULES for i in range(len(parts))):
        return True
    return f"{module}.{name}" in _DENIED_GLOBALS


def _verdict(findings: _Findings) -> ScanResult:
    shown: dict[str, str] = {}  # display name -> "denied" / "suspicious" / "allowed"
    rank = {"allowed": 0, "suspicious": 1, "denied": 2}
    for (module, name), safety in findings.globals.items():
        full = f"{module}.{name}"
        if _is_denied(module, name, safety):
            status = "denied"
        elif full in ALLOWED_GLOBALS:
            status = "allowed"
        else:
            status = "suspicious"
        label = _shown_name(full)
        if rank[status] >= rank[shown.get(label, "allowed")]:
            shown[label] = status
    dangerous = sorted(label for label, status in shown.items() if status != "allowed")
    everything = sorted(shown)
    fickling_alarm = findings.fickling >= Severity.LIKELY_OVERTLY_MALICIOUS
    if dangerous or fickling_alarm:
        verdict = "Danger"
    elif findings.problems:
        verdict = "Error"
    else:
        verdict = "Success"

    lines: list[str] = []
    if verdict == "Error":
        lines.append(_ERROR_PREFIX + findings.problems[0])
        lines.extend(_ERROR_PREFIX + p for p in findings.problems[1:3])
        if everything:
            lines.append("")
    if everything:
        lines.append(f"**Detected Pickle imports ({len(everything)})**")
        if any(status == "denied" for status in shown.values()):
            lines.append("*Dangerous import detected*")
        elif dangerous:
            lines.append("*Import not on the hub's allow-list detected: held for review*")
        lines.append("```")
        lines.extend(f"*{label}*" for label in dangerous)
        lines.extend(label for label in everything if shown[label] == "allowed")
        lines.append("```")
    elif verdict != "Error":
        lines.append("No Pickle imports")
    if fickling_alarm:
        lines.append(f"A second scanner (fickling) rates this pickle: {findings.fickling.message}.")
    if verdict == "Danger" and findings.problems:
        lines.extend(f"Also: {p}" for p in findings.problems[:3])
    return ScanResult(verdict, everything, dangerous, "\n".join(lines))


def _shown_name(text: str) -> str:
    """A global's name as safe text: names come from the file, so control characters, NUL (PostgreSQL
    refuses it) and backticks (they would end the Markdown code block) are escaped, and length capped."""
    out = []
    for ch in text:
        if ch == "`":
            out.append("\\x60")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    result = "".join(out)
    return result if len(result) <= 200 else result[:199] + "…"


def _shown(name: str) -> str:
    """A zip member name quoted for a message."""
    return f"'{_shown_name(name)}'"
