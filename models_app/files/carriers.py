"""Generation text outside PNG text chunks: EXIF in JPEG (APP1) and WebP (the EXIF chunk), walked as
TIFF by hand, and the GIF comment extension (docs/image-metadata.md#where-the-text-lives).

Every reader here is bounded (segments, chunks, IFDs, entries and bytes are counted; every offset must
lie inside the block it points into; an IFD is visited once, so loops end) and never raises for the
file's content: a damaged carrier gives what was read before the damage, or nothing. Pure: no Django.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

MAX_JPEG_EXIF_BYTES = 64 * 1024  # a JPEG segment cannot be larger
MAX_WEBP_EXIF_BYTES = 1024 * 1024 + 4096  # one text as large as a PNG text chunk, plus the TIFF frame
MAX_TIFF_IFDS = 8  # IFD0, Exif, IFD1 and a few more; nothing here needs more
MAX_IFD_ENTRIES = 512
MAX_JPEG_SEGMENTS = 1024
MAX_JPEG_FILL_BYTES = 64
MAX_WEBP_CHUNKS = 1024
MAX_GIF_BLOCKS = 100_000  # extension and image blocks
MAX_GIF_SUB_BLOCKS = 1_000_000  # data sub-blocks skipped, all blocks together
MAX_GIF_COMMENT_BYTES = 1024 * 1024

TAG_IMAGE_DESCRIPTION = 0x010E
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_SOFTWARE = 0x0131
TAG_EXIF_IFD = 0x8769
TAG_USER_COMMENT = 0x9286
# Tags whose text is kept: ComfyUI's WebP writer puts "prompt:{...}" in Model and "workflow:{...}" in
# Make (then ImageDescription for a further key); Software names the generator.
_TEXT_TAGS = {
    TAG_IMAGE_DESCRIPTION: "ImageDescription",
    TAG_MAKE: "Make",
    TAG_MODEL: "Model",
    TAG_SOFTWARE: "Software",
    TAG_USER_COMMENT: "UserComment",
}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def exif_texts(f: BinaryIO) -> dict[str, str]:
    """The texts of the EXIF block of a JPEG or WebP: {"UserComment": ..., "ImageDescription": ...,
    "Make": ..., "Model": ..., "Software": ...} for those present. {} for other files or no EXIF."""
    try:
        f.seek(0)
        head = f.read(12)
        if head.startswith(b"\xff\xd8\xff"):
            block = _jpeg_exif(f)
        elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            block = _webp_exif(f)
        else:
            return {}
    except (OSError, ValueError):
        return {}
    return tiff_texts(block) if block else {}


def tiff_texts(block: bytes) -> dict[str, str]:
    """The text tags of a TIFF-structured EXIF block (starting at its II/MM header), walked by hand:
    IFD0, the Exif IFD it points to, and the IFDs chained after them, at most MAX_TIFF_IFDS."""
    if len(block) < 8 or block[:4] not in (b"II*\0", b"MM\0*"):
        return {}
    order = "<" if block[:2] == b"II" else ">"
    texts: dict[str, str] = {}
    pending = [struct.unpack(order + "I", block[4:8])[0]]
    seen: set[int] = set()
    while pending and len(seen) < MAX_TIFF_IFDS:
        offset = pending.pop(0)
        if offset in seen or offset < 8 or offset + 2 > len(block):
            continue
        seen.add(offset)
        (count,) = struct.unpack(order + "H", block[offset : offset + 2])
        count = min(count, MAX_IFD_ENTRIES, (len(block) - offset - 2) // 12)
        for i in range(count):
            start = offset + 2 + 12 * i
            tag, kind, n = struct.unpack(order + "HHI", block[start : start + 8])
            if tag == TAG_EXIF_IFD and kind in (4, 13) and n == 1:
                pending.append(struct.unpack(order + "I", block[start + 8 : start + 12])[0])
            elif tag in _TEXT_TAGS and kind in (1, 2, 7):  # Pillow writes bytes as BYTE (1)
                value = _value_bytes(block, order, start, kind, n)
                if value is None:
                    continue
                name = _TEXT_TAGS[tag]
                texts[name] = decode_user_comment(value, order) if tag == TAG_USER_COMMENT else _ascii(value)
        end = offset + 2 + 12 * count
        if end + 4 <= len(block):
            following = struct.unpack(order + "I", block[end : end + 4])[0]
            if following:
                pending.append(following)
    return {k: v for k, v in texts.items() if v}


def decode_user_comment(value: bytes, order: str = ">") -> str:
    """EXIF UserComment: an 8-byte prefix naming the encoding, then the text. UNICODE is UTF-16, read
    in the EXIF block's byte order, else the other order, else as UTF-8 (A1111 writes big-endian
    through piexif whatever the block's order; other writers little-endian under `II`)."""
    prefix, body = value[:8], value[8:]
    if prefix == b"UNICODE\0":
        body = body[: len(body) // 2 * 2]
        first, second = ("utf-16-be", "utf-16-le") if order == ">" else ("utf-16-le", "utf-16-be")
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):  # a byte-order mark overrides the guess
            first, second = (
                ("utf-16-be", "utf-16-le") if body[:2] == b"\xfe\xff" else ("utf-16-le", "utf-16-be")
            )
            body = body[2:]
        for codec in (first, second):
            text = _strict(body, codec)
            if text is not None and _plausible(text):
                return text.rstrip("\0")
        return body.decode("utf-8", errors="ignore").replace("\0", "")
    if prefix == b"ASCII\0\0\0":
        return body.decode("utf-8", errors="replace").rstrip("\0")
    if prefix == b"JIS\0\0\0\0\0":
        return body.decode("shift_jis", errors="replace").rstrip("\0")
    if prefix == b"\0" * 8:
        return body.decode("utf-8", errors="replace").rstrip("\0")
    return value.decode("utf-8", errors="replace").rstrip("\0")  # no prefix: best effort


def gif_comments(f: BinaryIO) -> str | None:
    """The GIF comment extension's text (several comments joined by a newline), or None."""
    try:
        f.seek(0)
        head = f.read(13)
        if len(head) < 13 or head[:6] not in (b"GIF87a", b"GIF89a"):
            return None
        if head[10] & 0x80:  # global colour table
            f.seek(3 << ((head[10] & 7) + 1), io.SEEK_CUR)
        comments: list[bytes] = []
        budget = [MAX_GIF_SUB_BLOCKS]
        room = MAX_GIF_COMMENT_BYTES
        for _ in range(MAX_GIF_BLOCKS):
            introducer = f.read(1)
            if introducer == b"!":
                label = f.read(1)
                data = _gif_sub_blocks(f, budget, keep=room if label == b"\xfe" else 0)
                if data is None:
                    break
                if label == b"\xfe" and data:
                    comments.append(data)
                    room -= len(data)
            elif introducer == b",":
                descriptor = f.read(9)
                if len(descriptor) < 9:
                    break
                if descriptor[8] & 0x80:  # local colour table
                    f.seek(3 << ((descriptor[8] & 7) + 1), io.SEEK_CUR)
                f.seek(1, io.SEEK_CUR)  # LZW minimum code size
                if _gif_sub_blocks(f, budget, keep=0) is None:
                    break
            else:  # trailer, or anything else: the end
                break
    except (OSError, ValueError):
        return None
    text = b"\n".join(comments).decode("utf-8", errors="replace")
    return text or None


def _gif_sub_blocks(f: BinaryIO, budget: list[int], keep: int) -> bytes | None:
    """Read (up to `keep` bytes) or skip the sub-blocks of one block; None when the file ends or the
    sub-block budget is spent."""
    kept = bytearray()
    while budget[0] > 0:
        budget[0] -= 1
        size = f.read(1)
        if not size:
            return None
        if size == b"\0":
            return bytes(kept)
        if len(kept) + size[0] <= keep:
            data = f.read(size[0])
            if len(data) < size[0]:
                return None
            kept += data
        else:
            f.seek(size[0], io.SEEK_CUR)
    return None


def _jpeg_exif(f: BinaryIO) -> bytes | None:
    """The TIFF block of the first `Exif\\0\\0` APP1 segment, walking at most MAX_JPEG_SEGMENTS."""
    f.seek(2)
    for _ in range(MAX_JPEG_SEGMENTS):
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        for _ in range(MAX_JPEG_FILL_BYTES):  # a marker may be preceded by fill bytes (0xFF)
            if marker[1] != 0xFF:
                break
            byte = f.read(1)
            if not byte:
                return None
            marker = b"\xff" + byte
        else:
            return None
        code = marker[1]
        if code == 0x01 or 0xD0 <= code <= 0xD7:
            continue
        if code in (0xD9, 0xDA):  # end of image, start of scan: no EXIF after this point
            return None
        raw = f.read(2)
        if len(raw) < 2 or int.from_bytes(raw, "big") < 2:
            return None
        length = int.from_bytes(raw, "big") - 2
        if code == 0xE1:
            data = f.read(length)
            if data.startswith(b"Exif\0\0"):
                return data[6:MAX_JPEG_EXIF_BYTES]
            continue
        f.seek(length, io.SEEK_CUR)
    return None


def _webp_exif(f: BinaryIO) -> bytes | None:
    """The WebP `EXIF` chunk (with or without an `Exif\\0\\0` prefix), if no larger than its cap."""
    f.seek(12)
    for _ in range(MAX_WEBP_CHUNKS):
        head = f.read(8)
        if len(head) < 8:
            return None
        kind, size = head[:4], int.from_bytes(head[4:], "little")
        if kind == b"EXIF":
            if size > MAX_WEBP_EXIF_BYTES:
                return None
            data = f.read(size)
            return data[6:] if data.startswith(b"Exif\0\0") else data
        f.seek(size + (size & 1), io.SEEK_CUR)
    return None


def _value_bytes(block: bytes, order: str, entry: int, kind: int, count: int) -> bytes | None:
    size = _TYPE_SIZES.get(kind, 1) * count
    if size <= 4:
        return block[entry + 8 : entry + 8 + size]
    (offset,) = struct.unpack(order + "I", block[entry + 8 : entry + 12])
    if offset < 8 or offset + size > len(block):
        return None  # points outside the block: ignore
    return block[offset : offset + size]


def _ascii(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _plausible(text: str) -> bool:
    """Decoded in the wrong byte order, ASCII text becomes CJK-looking code points (U+xx00); text in
    the right order is mostly ASCII or at least holds spaces and newlines in the usual places."""
    if not text:
        return True
    sample = text[:4096]
    wrong_order = sum(1 for ch in sample if ord(ch) >= 0x100 and ord(ch) & 0xFF == 0)
    return wrong_order * 4 < len(sample)
