"""A strict, dependency-free reader for the header of a safetensors file (docs/safetensors.md).

`read_header(f, size)` seeks to 0 and makes exactly two reads, `f.read(8)` and `f.read(N)`, so a
caller reading a remote object with range requests fetches the header and nothing more. It never
allocates a size read from the file before checking it against `MAX_HEADER_SIZE`.

The hub rules are stricter than the safetensors library (docs/safetensors.md#validation-rules): no leading whitespace, no
duplicate keys, no NaN/Infinity, metadata values must be strings, tensors must tile the data
buffer exactly from 0 to the end of the file. Every rejection is a `HeaderError` whose message is one
sentence a creator can act on and whose `rule` is the number of the broken rule in that table.

Text from the file is untrusted: NUL characters are stripped and lone surrogates replaced in tensor
names and metadata (PostgreSQL refuses the first, UTF-8 encoding fails on the second), and each
repair is recorded in `warnings`. Metadata values over the size caps are dropped with a warning
rather than rejecting the file: the tensors are still usable and the metadata is informational.
"""

import json
import math
import re
import struct
from dataclasses import dataclass, field

MAX_HEADER_SIZE = 16 * 1024 * 1024
MAX_METADATA_KEYS = 1000
MAX_METADATA_KEY_SIZE = 1024  # bytes of UTF-8; longer keys are dropped with a warning
MAX_METADATA_VALUE_SIZE = 512 * 1024  # bytes of UTF-8, per value; longer values are dropped
MAX_THUMBNAIL_SIZE = 512 * 1024  # modelspec.thumbnail (a 256x256 data: URL fits easily)
MAX_METADATA_TOTAL_SIZE = 4 * 1024 * 1024  # keys + values kept; values past it are dropped
MAX_TENSORS = 100_000
MAX_NAME_LENGTH = 1024  # characters in a tensor name
MAX_RANK = 16
MAX_DEPTH = 32  # JSON nesting; a valid header needs 3 (header > tensor > shape)
MAX_INT_DIGITS = 20  # a u64 has at most 20 digits; longer numbers cannot be valid shapes or offsets
MAX_WARNINGS = 50

# Bits per element of every dtype safetensors 0.8.0 accepts (docs/safetensors.md#layout). Case-sensitive.
DTYPE_BITS = {
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
}

# Pre-parse bounds on how much JSON structure a header may hold, so a 16 MiB header of `[],[],...`
# cannot make the parser build millions of objects (hundreds of MB). A valid tensor entry holds one
# object, two lists and four key/value pairs; the metadata is one object of at most 1000 pairs.
_MAX_CONTAINERS = 3 * MAX_TENSORS + 2 + 64
_MAX_PAIRS = 4 * MAX_TENSORS + 1 + MAX_METADATA_KEYS + 64
# A JSON string that never fails to match (an unterminated one runs to the end), so `sub` is linear.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


class HeaderError(ValueError):
    """The header breaks rule `rule` of docs/safetensors.md#validation-rules; the message says what and how, in one sentence."""

    def __init__(self, message: str, rule: int, reason: str = ""):
        super().__init__(message)
        self.rule = rule
        self.reason = reason or message  # the message without the "(rule N)." ending


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int  # byte offsets relative to data_start; end is exclusive
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    tensors: list[TensorInfo]  # in buffer order (by begin)
    metadata: dict[str, str]
    data_start: int  # 8 + header_size: where the tensor data (and AutoV3) starts
    header_size: int  # N
    warnings: list[str] = field(default_factory=list)


def _fail(rule: int, message: str) -> HeaderError:
    return HeaderError(f"{message} (rule {rule}).", rule, reason=message)


def _show(text: str, limit: int = 80) -> str:
    """A name or value for a message: quoted, shortened, NULs and surrogates made harmless."""
    text = _SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return f"'{text}'"


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Warnings(list):
    """A list of warnings that stops growing at MAX_WARNINGS and counts the rest."""

    def __init__(self):
        super().__init__()
        self.dropped = 0

    def add(self, message: str) -> None:
        if len(self) < MAX_WARNINGS:
            self.append(message)
        else:
            self.dropped += 1

    def finish(self) -> list[str]:
        out = list(self)
        if self.dropped:
            out.append(f"{self.dropped} more warnings were left out.")
        return out


def clean_text(text: str) -> tuple[str, bool]:
    """(text without NUL characters and with lone surrogates replaced by U+FFFD, whether it changed)."""
    if text.isascii():
        if "\x00" not in text:
            return text, False
        return text.replace("\x00", ""), True
    cleaned = text.replace("\x00", "")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        cleaned = _SURROGATE.sub("\ufffd", cleaned)
    return cleaned, cleaned != text


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


# --- JSON with the hub's limits -------------------------------------------------------------------


def _strict_hooks(what: str) -> dict:
    """json.loads hooks that refuse NaN/Infinity, numbers too long to be sizes, and duplicate keys."""

    def reject_constant(name: str):
        raise _fail(4, f"{what} contains {name}, which JSON does not allow")

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise _fail(6, f"{what} contains a {len(digits)}-digit number, too large to be a size")
        return int(digits)

    def object_without_duplicates(pairs: list) -> dict:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen = set()
            for key, _ in pairs:
                if key in seen:
                    raise _fail(4, f"{what} has the key {_show(key)} twice; each key must appear once")
                seen.add(key)
        return result

    return {
        "parse_constant": reject_constant,
        "parse_int": parse_int,
        "object_pairs_hook": object_without_duplicates,
    }


def check_json_structure(data: bytes, what: str, max_containers: int, max_pairs: int) -> None:
    """Refuse JSON text with more objects/lists or key/value pairs than allowed, before parsing it.

    Counting brackets and colons in the raw bytes is an upper bound (strings may contain them), so
    only when that bound is exceeded are the strings removed and the structure counted exactly.
    """
    containers = data.count(b"{") + data.count(b"[")
    pairs = data.count(b":")
    if containers <= max_containers and pairs <= max_pairs:
        return
    structure = _JSON_STRING.sub(b"", data)
    containers = structure.count(b"{") + structure.count(b"[")
    pairs = structure.count(b":")
    if containers > max_containers:
        raise _fail(
            8, f"{what} holds {containers} JSON objects and lists, more than {max_containers} allowed"
        )
    if pairs > max_pairs:
        raise _fail(8, f"{what} holds {pairs} JSON keys, more than {max_pairs} allowed")


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` containers (iterative, no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_strict(text: str, what: str = "The safetensors header"):
    """json.loads that rejects duplicate keys, NaN/Infinity, oversized numbers and deep nesting."""
    try:
        value = json.loads(text, **_strict_hooks(what))
    except RecursionError:
        raise _fail(4, f"{what} is nested too deeply; at most {MAX_DEPTH} levels are allowed") from None
    except json.JSONDecodeError as exc:
        raise _fail(3, f"{what} is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except ValueError as exc:  # e.g. int() refusing a number (already bounded by _parse_int)
        if isinstance(exc, HeaderError):
            raise
        raise _fail(3, f"{what} is not valid JSON: {exc}") from None
    if json_depth_exceeds(value, MAX_DEPTH):
        raise _fail(4, f"{what} is nested too deeply; at most {MAX_DEPTH} levels are allowed")
    return value


# --- reading ---------------------------------------------------------------------------------------


def _read_exactly(f, n: int) -> bytes:
    """f.read(n), repeated only if a raw stream returns fewer bytes; never reads past n."""
    data = f.read(n)
    if len(data) == n or not data:
        return data
    parts, got = [data], len(data)
    while got < n:
        more = f.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def read_header(f, size: int) -> SafetensorsHeader:
    """Validate and parse the header of the safetensors file `f` (a seekable binary file of `size` bytes).

    Reads exactly 8 + N bytes from offset 0. Raises HeaderError naming the broken rule of docs/safetensors.md.
    """
    # Rule 1: room for the length prefix.
    if size < 8:
        raise _fail(
            1, f"The file is {size} bytes long; a safetensors file starts with an 8-byte header length"
        )
    f.seek(0)
    prefix = _read_exactly(f, 8)
    if len(prefix) < 8:
        raise _fail(
            1,
            f"The file ended after {len(prefix)} bytes; a safetensors file starts with an 8-byte header length",
        )
    (n,) = struct.unpack("<Q", prefix)

    # Rule 2: the length is sane before anything is allocated from it.
    if n > MAX_HEADER_SIZE:
        raise _fail(2, f"The safetensors header says it is {n} bytes long, more than the 16 MiB limit")
    if 8 + n > size:
        raise _fail(
            2,
            f"The safetensors header says it is {n} bytes long, but the file has only {size - 8} bytes after the length",
        )
    if n == 0:
        raise _fail(3, "The safetensors header is empty; it must be a JSON object starting with '{'")
    raw = _read_exactly(f, n)
    if len(raw) < n:
        raise _fail(2, f"The file ended after {len(raw)} of the {n} header bytes it declares")

    # Rule 3: strict UTF-8 text starting with '{'.
    if raw[:1] != b"{":
        first = raw[:1]
        shown = repr(first.decode("latin-1")) if 0x20 <= first[0] < 0x7F else f"byte 0x{first[0]:02x}"
        raise _fail(
            3,
            f"The safetensors header starts with {shown} instead of '{{'; it must be a JSON object with nothing before it",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            3,
            f"The safetensors header is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {8 + exc.start})",
        ) from None

    # Rule 4 (and 8's count cap, checked before parsing so the parser's memory stays bounded).
    check_json_structure(raw, "The safetensors header", _MAX_CONTAINERS, _MAX_PAIRS)
    del raw
    top = loads_strict(text)
    del text
    if not isinstance(top, dict):  # unreachable after the '{' check, kept for clarity
        raise _fail(4, "The safetensors header must be a JSON object")

    warnings = _Warnings()
    metadata = _read_metadata(top.pop("__metadata__", {}), warnings)
    tensors = _read_tensors(top, warnings)
    _check_layout(tensors, size, 8 + n)
    return SafetensorsHeader(
        tensors=tensors, metadata=metadata, data_start=8 + n, header_size=n, warnings=warnings.finish()
    )


def _read_metadata(raw_metadata, warnings: _Warnings) -> dict[str, str]:
    """Rule 5: an object of strings, at most MAX_METADATA_KEYS keys; oversized entries are dropped."""
    if not isinstance(raw_metadata, dict):
        raise _fail(
            5, f"The safetensors __metadata__ is {_kind(raw_metadata)}; it must be a JSON object of strings"
        )
    if len(raw_metadata) > MAX_METADATA_KEYS:
        raise _fail(
            5,
            f"The safetensors metadata has {len(raw_metadata)} keys, more than the limit of {MAX_METADATA_KEYS}",
        )
    for key, value in raw_metadata.items():
        if not isinstance(value, str):
            raise _fail(
                5,
                f"The metadata value of {_show(key)} is {_kind(value)}; every metadata value must be a string",
            )
    metadata: dict[str, str] = {}
    total = 0
    for raw_key, raw_value in raw_metadata.items():
        key, key_changed = clean_text(raw_key)
        key_size = _utf8_size(key)
        if key_size > MAX_METADATA_KEY_SIZE:
            warnings.add(
                f"A metadata key of {key_size} bytes was dropped (the limit is {MAX_METADATA_KEY_SIZE})."
            )
            continue
        value, value_changed = clean_text(raw_value)
        value_size = _utf8_size(value)
        limit = MAX_THUMBNAIL_SIZE if key == "modelspec.thumbnail" else MAX_METADATA_VALUE_SIZE
        if value_size > limit:
            warnings.add(
                f"The metadata value {_show(key)} ({value_size} bytes) was dropped; the limit is {limit} bytes."
            )
            continue
        if total + key_size + value_size > MAX_METADATA_TOTAL_SIZE:
            warnings.add(
                f"The metadata value {_show(key)} was dropped: the metadata passed its total limit of "
                f"{MAX_METADATA_TOTAL_SIZE} bytes."
            )
            continue
        if key in metadata:
            warnings.add(
                f"The metadata key {_show(key)} appears twice once NUL characters are removed; kept the first."
            )
            continue
        if key_changed:
            warnings.add(
                f"The metadata key {_show(key)} had NUL characters or invalid code points; they were removed."
            )
        if value_changed:
            warnings.add(
                f"The metadata value {_show(key)} had NUL characters or invalid code points; they were removed."
            )
        metadata[key] = value
        total += key_size + value_size
    return metadata


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_tensors(entries: dict, warnings: _Warnings) -> list[TensorInfo]:
    """Rules 6 and 8: each entry is a known dtype, a valid shape and offsets whose size matches."""
    if len(entries) > MAX_TENSORS:
        raise _fail(
            8, f"The safetensors header declares {len(entries)} tensors, more than the limit of {MAX_TENSORS}"
        )
    tensors = []
    for raw_name, entry in entries.items():
        if len(raw_name) > MAX_NAME_LENGTH:
            raise _fail(
                8,
                f"A tensor name is {len(raw_name)} characters long, more than the limit of {MAX_NAME_LENGTH}",
            )
        name, changed = clean_text(raw_name)
        if changed:
            warnings.add(
                f"The tensor name {_show(name)} had NUL characters or invalid code points; they were removed."
            )
        label = f"Tensor {_show(name)}"
        if not isinstance(entry, dict):
            raise _fail(
                6,
                f"{label} is described by {_kind(entry)}; it must be an object with dtype, shape and data_offsets",
            )
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        extra = sorted(set(entry) - {"dtype", "shape", "data_offsets"})
        if extra:
            warnings.add(
                f"{label} has unknown keys that were ignored: {', '.join(_show(k, 40) for k in extra[:5])}."
            )
        if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
            shown = _show(dtype, 40) if isinstance(dtype, str) else _kind(dtype)
            raise _fail(
                6, f"{label} has the unknown dtype {shown}; safetensors allows {', '.join(DTYPE_BITS)}"
            )
        if not isinstance(shape, list):
            raise _fail(6, f"{label} has a shape that is {_kind(shape)}; it must be a list of whole numbers")
        if len(shape) > MAX_RANK:
            raise _fail(6, f"{label} has {len(shape)} dimensions, more than the limit of {MAX_RANK}")
        for dim in shape:
            if not _is_count(dim):
                shown = json.dumps(dim)[:40] if not isinstance(dim, dict | list) else _kind(dim)
                raise _fail(
                    6, f"{label} has the shape entry {shown}; shape entries must be whole numbers >= 0"
                )
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            shown = json.dumps(offsets)[:60] if isinstance(offsets, list) else _kind(offsets)
            raise _fail(
                6, f"{label} has data_offsets {shown}; they must be two whole numbers [begin, end] >= 0"
            )
        begin, end = offsets
        if end < begin:
            raise _fail(6, f"{label} has data_offsets [{begin}, {end}], which end before they begin")
        bits = math.prod(shape) * DTYPE_BITS[dtype]
        if (end - begin) * 8 != bits:
            need = f"{bits // 8} bytes" if bits % 8 == 0 else f"{bits} bits, not a whole number of bytes"
            raise _fail(
                6, f"{label} takes {end - begin} bytes, but its shape {list(shape)} of {dtype} needs {need}"
            )
        tensors.append(TensorInfo(name=name, dtype=dtype, shape=tuple(shape), begin=begin, end=end))
    return tensors


def _check_layout(tensors: list[TensorInfo], size: int, data_start: int) -> None:
    """Rule 7: the tensors tile the data buffer from 0 to the end of the file, in place (sorted)."""
    tensors.sort(key=lambda t: (t.begin, t.end))
    position, previous = 0, None
    for tensor in tensors:
        if tensor.begin != position:
            if previous is None:
                raise _fail(
                    7,
                    f"The first tensor, {_show(tensor.name)}, starts at byte {tensor.begin} of the data instead of 0",
                )
            relation = "leaving a gap after" if tensor.begin > position else "overlapping"
            raise _fail(
                7,
                f"Tensor {_show(tensor.name)} starts at byte {tensor.begin}, {relation} {_show(previous.name)}, "
                f"which ends at {position}; tensors must follow each other with no gaps or overlaps",
            )
        position, previous = tensor.end, tensor
    expected = data_start + position
    if expected < size:
        raise _fail(
            7,
            f"The file has {size - expected} bytes after the last tensor; a safetensors file must end where its last tensor ends",
        )
    if expected > size:
        raise _fail(
            7,
            f"The file is {expected - size} bytes shorter than its header says; it may be truncated, so upload it again",
        )
