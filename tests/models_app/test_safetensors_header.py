"""The strict safetensors header reader (docs/safetensors.md, docs/hostile-input.md items 3-5)."""

import io
import json
import struct
import time

import pytest

from models_app.demo import make_safetensors, tiny_lora
from models_app.files.safetensors import (
    DTYPE_BITS,
    MAX_METADATA_TOTAL_SIZE,
    MAX_METADATA_VALUE_SIZE,
    MAX_TENSORS,
    HeaderError,
    read_header,
)

F32 = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
T1 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4"})
T2 = make_safetensors([("w", "F32", (2, 2), F32)], {"ss_network_dim": "4", "modelspec.title": "x"})
T3 = make_safetensors([("big", "U8", (0x200000,), bytes(i % 251 for i in range(0x200000)))])


class CountingReader:
    """A file that records every read, as a remote range reader would be billed for it."""

    def __init__(self, data: bytes):
        self._file = io.BytesIO(data)
        self.reads: list[int] = []
        self.bytes_read = 0

    def seek(self, offset, whence=io.SEEK_SET):
        return self._file.seek(offset, whence)

    def read(self, n=-1):
        self.reads.append(n)
        data = self._file.read(n)
        self.bytes_read += len(data)
        return data


def parse(data: bytes, size: int | None = None):
    return read_header(io.BytesIO(data), len(data) if size is None else size)


def raw_file(header: bytes | str, data: bytes = b"") -> bytes:
    """A file with exactly this header text (no padding, nothing fixed up) and data buffer."""
    if isinstance(header, str):
        header = header.encode()
    return struct.pack("<Q", len(header)) + header + data


def entry(dtype: str, shape, begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def json_file(header: dict, data: bytes = b"") -> bytes:
    return raw_file(json.dumps(header), data)


def rejection(data: bytes, size: int | None = None) -> HeaderError:
    with pytest.raises(HeaderError) as caught:
        parse(data, size)
    return caught.value


# --- valid files ------------------------------------------------------------------------------------


def test_the_design_vector_t1_gives_its_tensor_metadata_and_data_offset():
    header = parse(T1)
    assert len(T1) == 120
    assert header.header_size == 96
    assert header.data_start == 104
    assert header.metadata == {"ss_network_dim": "4"}
    assert [(t.name, t.dtype, t.shape, t.begin, t.end) for t in header.tensors] == [
        ("w", "F32", (2, 2), 0, 16)
    ]
    assert header.warnings == []


def test_the_design_vectors_t2_and_t3_are_accepted():
    t2 = parse(T2)
    assert t2.header_size == 120
    assert t2.metadata == {"ss_network_dim": "4", "modelspec.title": "x"}
    t3 = parse(T3)
    assert t3.header_size == 72
    assert t3.data_start == 80
    assert [(t.name, t.dtype, t.shape, t.end) for t in t3.tensors] == [("big", "U8", (0x200000,), 0x200000)]
    assert t3.metadata == {}


def test_header_padding_with_spaces_and_trailing_json_whitespace_is_accepted():
    body = json.dumps({"w": entry("F32", [2, 2], 0, 16)})
    for padding in (" " * 8, " " * 13, "\n", "\t \r\n  "):
        header = parse(raw_file(body + padding, F32))
        assert [t.name for t in header.tensors] == ["w"]
        assert header.header_size == len(body) + len(padding)


def test_an_empty_header_object_is_a_valid_file_with_no_tensors():
    header = parse(raw_file("{}      "))
    assert header.tensors == []
    assert header.metadata == {}
    assert header.data_start == 16


def test_scalars_and_zero_size_tensors_are_accepted_anywhere_in_the_buffer():
    data = make_safetensors(
        [
            ("empty_first", "F16", (0, 768), b""),
            ("scalar", "F32", (), struct.pack("<f", 1.5)),
            ("empty_middle", "BF16", (4, 0, 2), b""),
            ("vector", "I64", (1,), struct.pack("<q", 7)),
            ("empty_last", "U8", (0,), b""),
        ]
    )
    header = parse(data)
    shapes = {t.name: (t.shape, t.begin, t.end) for t in header.tensors}
    assert shapes["scalar"] == ((), 0, 4)
    assert shapes["empty_first"] == ((0, 768), 0, 0)
    assert shapes["vector"] == ((1,), 4, 12)
    assert shapes["empty_last"] == ((0,), 12, 12)


def test_tensors_are_returned_in_buffer_order_whatever_the_json_order():
    header = {
        "b": entry("F32", [1], 4, 8),
        "a": entry("F32", [1], 0, 4),
        "c": entry("F32", [2], 8, 16),
    }
    parsed = parse(json_file(header, bytes(16)))
    assert [t.name for t in parsed.tensors] == ["a", "b", "c"]


@pytest.mark.parametrize("dtype", sorted(DTYPE_BITS))
def test_every_dtype_of_the_library_is_accepted_with_its_own_bit_width(dtype):
    bits = DTYPE_BITS[dtype]
    count = 8  # 8 elements are a whole number of bytes for 4-, 6- and 8+-bit dtypes
    data = make_safetensors([("t", dtype, (count,), bytes(count * bits // 8))])
    assert parse(data).tensors[0].end == count * bits // 8
    # One byte more than the shape needs is refused.
    wrong = make_safetensors([("t", dtype, (count,), bytes(count * bits // 8 + 1))])
    assert rejection(wrong).rule == 6


def test_sub_byte_tensors_must_fill_whole_bytes():
    assert parse(make_safetensors([("t", "F4", (4,), bytes(2))])).tensors[0].end == 2
    assert parse(make_safetensors([("t", "F6_E2M3", (4,), bytes(3))])).tensors[0].end == 3
    error = rejection(raw_file(json.dumps({"t": entry("F4", [3], 0, 2)}), bytes(2)))
    assert error.rule == 6
    assert "not a whole number of bytes" in str(error)


def test_the_demo_lora_parses_with_its_kohya_metadata():
    header = parse(tiny_lora())
    assert header.metadata["ss_network_module"] == "networks.lora"
    assert len(header.tensors) == 6


# --- what is read ------------------------------------------------------------------------------------


def test_exactly_the_length_and_the_header_are_read_and_no_tensor_data():
    reader = CountingReader(T3)
    header = read_header(reader, len(T3))
    assert reader.reads == [8, 72]
    assert reader.bytes_read == 8 + header.header_size == 80


def test_an_absurd_header_length_is_refused_after_reading_only_its_eight_bytes():
    data = struct.pack("<Q", 2**63) + b"{}" + bytes(100)
    reader = CountingReader(data)
    with pytest.raises(HeaderError) as caught:
        read_header(reader, len(data))
    assert caught.value.rule == 2
    assert reader.bytes_read == 8
    assert str(caught.value) == (
        "The safetensors header says it is 9223372036854775808 bytes long, more than the 16 MiB limit (rule 2)."
    )


class LazyFile:
    """A file that claims its size and produces bytes only when read, so a huge file costs nothing."""

    def __init__(self, prefix: bytes, size: int):
        self.prefix, self.size, self.bytes_read, self._pos = prefix, size, 0, 0

    def seek(self, offset, whence=io.SEEK_SET):
        self._pos = offset
        return offset

    def read(self, n=-1):
        if self._pos >= len(self.prefix):
            raise AssertionError("the reader read past the header length")
        data = self.prefix[self._pos : self._pos + n]
        self._pos += len(data)
        self.bytes_read += len(data)
        return data


def test_a_million_tensors_declared_in_the_header_length_are_refused_without_reading_them():
    one = '"t{:07d}":{{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'
    count = 1_000_001
    n = 2 + count * len(one.format(0)) + (count - 1)  # {, entries, commas, }
    f = LazyFile(struct.pack("<Q", n), 8 + n)
    started = time.perf_counter()
    with pytest.raises(HeaderError) as caught:
        read_header(f, 8 + n)
    assert caught.value.rule == 2
    assert f.bytes_read == 8
    assert time.perf_counter() - started < 1


def test_more_than_the_tensor_limit_is_refused_by_count():
    entries = ",".join(
        f'"{i}":{{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}' for i in range(MAX_TENSORS + 1)
    )
    error = rejection(raw_file("{" + entries + "}"))
    assert error.rule == 8
    assert f"{MAX_TENSORS + 1} tensors" in str(error)


def test_a_header_of_millions_of_empty_lists_is_refused_before_it_is_parsed():
    error = rejection(raw_file('{"a":[' + "[]," * 1_000_000 + "[]]}"))
    assert error.rule == 8
    assert "JSON objects and lists" in str(error)


# --- hostile headers: each names the rule it breaks ---------------------------------------------------

GOOD_ENTRY = entry("F32", [2, 2], 0, 16)

HOSTILE = {
    "file shorter than 8 bytes": (b"\x10\x00\x00", 1, "8-byte header length"),
    "header length past the end of the file": (struct.pack("<Q", 100) + b"{}", 2, "only 2 bytes after"),
    "header length zero": (struct.pack("<Q", 0), 3, "empty"),
    "header not UTF-8": (raw_file(b'{"w\xff":1}'), 3, "not valid UTF-8"),
    "header with an encoded surrogate": (raw_file(b'{"\xed\xa0\x80":1}'), 3, "not valid UTF-8"),
    "leading space": (raw_file(" " + json.dumps({"w": GOOD_ENTRY}), F32), 3, "instead of '{'"),
    "byte order mark": (raw_file(b"\xef\xbb\xbf{}"), 3, "instead of '{'"),
    "a JSON list": (raw_file("[]"), 3, "instead of '{'"),
    "JSON followed by garbage": (raw_file("{}x"), 3, "not valid JSON"),
    "unterminated JSON": (raw_file('{"w":'), 3, "not valid JSON"),
    "duplicate tensor names": (
        raw_file('{"w":' + json.dumps(GOOD_ENTRY) + ',"w":' + json.dumps(GOOD_ENTRY) + "}", F32),
        4,
        "the key 'w' twice",
    ),
    "duplicate metadata sections": (raw_file('{"__metadata__":{},"__metadata__":{}}'), 4, "twice"),
    "NaN": (raw_file('{"w":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}', bytes(4)), 4, "NaN"),
    "Infinity": (
        raw_file('{"w":{"dtype":"F32","shape":[Infinity],"data_offsets":[0,4]}}', bytes(4)),
        4,
        "Infinity",
    ),
    "-Infinity": (raw_file('{"x":-Infinity}'), 4, "-Infinity"),
    "nesting 10000 levels deep": (
        raw_file('{"a":' + "[" * 10_000 + "]" * 10_000 + "}"),
        4,
        "nested too deeply",
    ),
    "nesting 40 levels deep": (raw_file('{"a":' + "[" * 40 + "]" * 40 + "}"), 4, "nested too deeply"),
    "metadata that is a list": (raw_file('{"__metadata__":["a"]}'), 5, "a list"),
    "metadata that is null": (raw_file('{"__metadata__":null}'), 5, "null"),
    "metadata with a number value": (
        json_file({"__metadata__": {"ss_network_dim": 4}}),
        5,
        "'ss_network_dim' is a number",
    ),
    "metadata with an object value": (
        json_file({"__metadata__": {"ss_tag_frequency": {"a": 1}}}),
        5,
        "an object",
    ),
    "metadata with a null value": (json_file({"__metadata__": {"a": None}}), 5, "null"),
    "too many metadata keys": (
        json_file({"__metadata__": {f"k{i}": "" for i in range(1001)}}),
        5,
        "1001 keys",
    ),
    "unknown dtype F8_E4M3FN": (
        json_file({"w": entry("F8_E4M3FN", [4], 0, 4)}, bytes(4)),
        6,
        "unknown dtype 'F8_E4M3FN'",
    ),
    "lowercase dtype": (json_file({"w": entry("f32", [1], 0, 4)}, bytes(4)), 6, "unknown dtype 'f32'"),
    "dtype missing": (
        json_file({"w": {"shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
        6,
        "unknown dtype null",
    ),
    "tensor entry not an object": (json_file({"w": [1, 2]}), 6, "a list"),
    "negative shape entry": (json_file({"w": entry("F32", [-1], 0, 0)}), 6, "shape entry -1"),
    "boolean shape entry": (json_file({"w": entry("F32", [True], 0, 4)}, bytes(4)), 6, "shape entry true"),
    "float shape entry": (json_file({"w": entry("F32", [2.0], 0, 8)}, bytes(8)), 6, "shape entry 2.0"),
    "string shape entry": (json_file({"w": entry("F32", ["2"], 0, 8)}, bytes(8)), 6, 'shape entry "2"'),
    "shape not a list": (json_file({"w": entry("F32", 4, 0, 16)}, bytes(16)), 6, "a number"),
    "rank 17": (json_file({"w": entry("U8", [1] * 17, 0, 1)}, bytes(1)), 6, "17 dimensions"),
    "offsets end before begin": (
        json_file({"w": entry("U8", [0], 8, 4)}, bytes(8)),
        6,
        "end before they begin",
    ),
    "negative offset": (
        json_file({"w": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}),
        6,
        "data_offsets",
    ),
    "three offsets": (
        json_file({"w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4, 8]}}, bytes(4)),
        6,
        "two",
    ),
    "boolean offsets": (
        json_file({"w": {"dtype": "U8", "shape": [1], "data_offsets": [False, True]}}, bytes(1)),
        6,
        "data_offsets",
    ),
    "size not shape times bits": (
        json_file({"w": entry("F32", [2, 2], 0, 12)}, bytes(12)),
        6,
        "needs 16 bytes",
    ),
    "overflowing shape": (
        json_file({"w": entry("F64", [2**62, 2**62], 0, 8)}, bytes(8)),
        6,
        f"needs {2**127} bytes",
    ),
    "a 400-digit number": (
        raw_file('{"w":{"dtype":"U8","shape":[' + "9" * 400 + '],"data_offsets":[0,0]}}'),
        6,
        "400-digit",
    ),
    "tensor name of 2000 characters": (
        json_file({"n" * 2000: entry("U8", [1], 0, 1)}, bytes(1)),
        8,
        "2000 characters",
    ),
    "first tensor not at 0": (
        json_file({"w": entry("U8", [4], 4, 8)}, bytes(8)),
        7,
        "starts at byte 4 of the data instead of 0",
    ),
    "gap between tensors": (
        json_file({"a": entry("U8", [4], 0, 4), "b": entry("U8", [4], 8, 12)}, bytes(12)),
        7,
        "leaving a gap after 'a'",
    ),
    "overlapping tensors": (
        json_file({"a": entry("U8", [8], 0, 8), "b": entry("U8", [8], 4, 12)}, bytes(12)),
        7,
        "overlapping 'a'",
    ),
    "trailing bytes after the last tensor": (T1 + b"PK\x03\x04", 7, "4 bytes after the last tensor"),
    "truncated data": (T1[:-3], 7, "3 bytes shorter"),
    "tensors declared with no data at all": (
        make_safetensors([("w", "F32", (2, 2), F32)])[:-16],
        7,
        "truncated",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_header_is_refused_with_the_rule_it_breaks_and_a_readable_reason(case):
    data, rule, fragment = HOSTILE[case]
    error = rejection(data)
    assert error.rule == rule, str(error)
    message = str(error)
    assert fragment in message
    assert message.endswith(f"(rule {rule}).")
    assert message.count("\n") == 0 and len(message) < 400


def test_the_library_accepts_a_leading_space_but_the_hub_does_not():
    # safetensors 0.8.0 parses this header; the hub refuses it (docs/safetensors.md, rule 3).
    data = raw_file(" {}     ")
    error = rejection(data)
    assert error.rule == 3
    assert str(error).startswith("The safetensors header starts with ' ' instead of '{'")


def test_a_file_whose_reader_ends_early_is_called_truncated_not_misread():
    data = T1[:50]  # the caller claims the full size, the bytes are not there
    error = rejection(data, size=len(T1))
    assert error.rule == 2
    assert "ended after 42 of the 96 header bytes" in str(error)


def test_unknown_keys_in_a_tensor_entry_are_ignored_with_a_warning():
    data = json_file({"w": {**GOOD_ENTRY, "quant": {"scale": 1}}}, F32)
    header = parse(data)
    assert [t.name for t in header.tensors] == ["w"]
    assert any("unknown keys" in w and "'quant'" in w for w in header.warnings)


# --- metadata bombs and text the database refuses -----------------------------------------------------


def test_a_50_mb_tag_frequency_is_refused_because_the_header_passes_16_mib():
    """Documented choice: a metadata value can only be as large as the header, and a header over 16 MiB
    is refused outright (rule 2) after reading 8 bytes; smaller oversized values are dropped (below)."""
    value = b"a" * 50_000_000
    data = raw_file(b'{"__metadata__":{"ss_tag_frequency":"' + value + b'"}}')
    reader = CountingReader(data)
    with pytest.raises(HeaderError) as caught:
        read_header(reader, len(data))
    assert caught.value.rule == 2
    assert reader.bytes_read == 8


def test_an_oversized_metadata_value_inside_the_header_limit_is_dropped_with_a_warning():
    tags = json.dumps({"10_x": {f"tag{i}": i for i in range(200_000)}})
    assert MAX_METADATA_VALUE_SIZE < len(tags) < 16 * 1024 * 1024
    header = parse(
        make_safetensors([("w", "F32", (2, 2), F32)], {"ss_tag_frequency": tags, "ss_network_dim": "4"})
    )
    assert header.metadata == {"ss_network_dim": "4"}
    assert any("'ss_tag_frequency'" in w and "dropped" in w for w in header.warnings)
    assert [t.name for t in header.tensors] == ["w"]


def test_a_huge_thumbnail_is_dropped_with_a_warning():
    thumbnail = "data:image/png;base64," + "A" * (600 * 1024)
    header = parse(make_safetensors([], {"modelspec.thumbnail": thumbnail, "modelspec.title": "t"}))
    assert header.metadata == {"modelspec.title": "t"}
    assert any("modelspec.thumbnail" in w for w in header.warnings)


def test_metadata_past_its_total_limit_is_dropped_value_by_value():
    value = "v" * (500 * 1024)
    count = MAX_METADATA_TOTAL_SIZE // len(value) + 1
    header = parse(make_safetensors([], {f"k{i}": value for i in range(count)}))
    assert len(header.metadata) == count - 1
    assert f"k{count - 1}" not in header.metadata
    assert any("total limit" in w for w in header.warnings)


def test_nul_characters_and_lone_surrogates_are_cleaned_from_names_and_metadata():
    data = make_safetensors(
        [("w\u0000eight", "F32", (2, 2), F32), ("bad\ud800name", "U8", (1,), b"\x01")],
        {"ss_output_name": "my\u0000lora", "modelspec.title": "x\udfffy", "k\u0000ey": "v"},
    )
    header = parse(data)
    assert [t.name for t in header.tensors] == ["weight", "bad\ufffdname"]
    assert header.metadata == {"ss_output_name": "mylora", "modelspec.title": "x\ufffdy", "key": "v"}
    for text in [*header.metadata, *header.metadata.values(), *(t.name for t in header.tensors)]:
        assert "\x00" not in text
        text.encode("utf-8")  # would raise on a lone surrogate
    assert len(header.warnings) == 5


def test_warnings_stop_growing_after_fifty():
    data = make_safetensors([(f"w{i}\u0000", "U8", (1,), b"\x00") for i in range(500)])
    header = parse(data)
    assert len(header.warnings) == 51
    assert header.warnings[-1] == "450 more warnings were left out."
