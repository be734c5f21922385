"""A copy of an uploaded image without where it was taken or which camera took it (docs/images.md#what-is-served).

Removed: the EXIF GPS IFD, camera make/model, serial numbers, lens and owner names, the maker note,
XMP packets (they can repeat GPS) and Photoshop IRB/IPTC blocks. Kept: everything else, above all the
generation text (PNG text chunks, EXIF UserComment and ImageDescription). The pixels are never
re-encoded: segments and chunks are copied as they are, so the copy looks exactly like the upload.

Pure, like models_app/files: bytes in, bytes out. A container this module cannot walk is returned
without its metadata blocks rather than as it came.
"""

import io
import struct
import zlib

from PIL import Image

MAX_EXIF_BYTES = 64 * 1024  # as models_app.files.images: larger EXIF blocks are never parsed
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# IFD0: Make, Model, CameraSerialNumber. Exif IFD: MakerNote, CameraOwnerName, BodySerialNumber,
# LensSpecification, LensMake, LensModel, LensSerialNumber.
PRIVATE_IFD0_TAGS = (0x010F, 0x0110, 0xC62F)
PRIVATE_EXIF_TAGS = (0x927C, 0xA430, 0xA431, 0xA432, 0xA433, 0xA434, 0xA435)
# ComfyUI nodes that save WebP put the workflow in Make/ImageDescription with a "workflow:" prefix.
GENERATION_PREFIXES = ("workflow:", "prompt:")

_XMP_PREFIXES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED_KEYWORDS = {b"XML:com.adobe.xmp", b"Raw profile type exif", b"Raw profile type APP1",
                         b"Raw profile type iptc", b"Raw profile type xmp"}  # fmt: skip


def clean_exif(data: bytes) -> bytes | None:
    """The EXIF block (TIFF bytes, with or without the "Exif\\0\\0" prefix) without the private tags,
    or None when nothing worth keeping is left or the block cannot be read."""
    if len(data) > MAX_EXIF_BYTES:
        return None  # larger than a JPEG segment can hold: nobody's generation text, not parsed
    try:
        exif = Image.Exif()
        exif.load(data)
        sub = exif.get_ifd(EXIF_IFD)  # loaded now, so tobytes() writes it back
        exif.pop(GPS_IFD, None)
        for tag in PRIVATE_IFD0_TAGS:
            value = exif.get(tag)
            if not (isinstance(value, str) and value.lower().startswith(GENERATION_PREFIXES)):
                exif.pop(tag, None)
        for tag in PRIVATE_EXIF_TAGS:
            sub.pop(tag, None)
        if not sub:
            exif.pop(EXIF_IFD, None)
        if not exif:
            return None
        return exif.tobytes()[6:]  # tobytes() starts with "Exif\0\0"
    except Exception:  # noqa: BLE001 - a damaged block is dropped, never served as it came
        return None


def strip_private_metadata(data: bytes) -> bytes:
    """`data` (a PNG, JPEG or WebP) without location or camera facts; other formats unchanged."""
    if data.startswith(b"\xff\xd8"):
        return _strip_jpeg(data)
    if data.startswith(_PNG_SIGNATURE):
        return _strip_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _strip_webp(data)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out = io.BytesIO()
    out.write(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9 or marker == 0x01:
            break  # the scan starts: everything from here is image data
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            cleaned = clean_exif(body)
            if cleaned is not None and len(cleaned) + 8 <= 0xFFFF:
                segment = b"Exif\x00\x00" + cleaned
                out.write(b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment)
            continue
        if (marker == 0xE1 and body.startswith(_XMP_PREFIXES)) or marker == 0xED:  # XMP, Photoshop/IPTC
            continue
        out.write(data[pos - 2 - length : pos])
    out.write(data[pos:])
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _strip_png(data: bytes) -> bytes:
    out = io.BytesIO()
    out.write(_PNG_SIGNATURE)
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break  # a chunk running past the end: nothing after it is kept
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"eXIf":
            cleaned = clean_exif(body)
            if cleaned is not None:
                out.write(_png_chunk(kind, cleaned))
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and body.split(b"\x00", 1)[0] in _PNG_DROPPED_KEYWORDS:
            pass
        else:
            out.write(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return out.getvalue()


def _strip_webp(data: bytes) -> bytes:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)
        if kind == b"EXIF":
            cleaned = clean_exif(body)
            if cleaned is None:
                continue
            body = cleaned
        elif kind == b"XMP ":
            continue
        chunks.append([kind, body])
    kinds = {kind for kind, _ in chunks}
    for chunk in chunks:
        if chunk[0] == b"VP8X" and len(chunk[1]) >= 1:
            flags = chunk[1][0] & ~0x04  # no XMP any more
            if b"EXIF" not in kinds:
                flags &= ~0x08
            chunk[1] = bytes([flags]) + chunk[1][1:]
    body = b"".join(
        kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
        for kind, payload in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
