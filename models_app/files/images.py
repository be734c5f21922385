"""Uploaded images: checking, thumbnailing and reading embedded generation text, safely.

Images come from strangers, so every entry point here treats the file as hostile (docs/image-metadata.md;
docs/hostile-input.md, items 9, 10 and 13):

- Only PNG, JPEG, WebP and GIF are accepted; the magic bytes are sniffed and Pillow is restricted to
  those four formats. SVG is not an image we render, and neither is anything else Pillow could open.
- The pixel count is checked against ``MAX_PIXELS`` from the file header before any pixel is decoded,
  and Pillow's own ``DecompressionBombWarning`` is turned into an error while we work
  (``Image.MAX_IMAGE_PIXELS`` is lowered to ``MAX_PIXELS`` when this module is imported).
- ``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set: the file is ``verify()``-ed and then decoded once, so
  a truncated or damaged file is rejected instead of being padded with grey.
- EXIF and XMP blocks larger than ``MAX_EXIF_BYTES`` are never parsed, and thumbnails carry no metadata
  at all (no EXIF, ICC profile, XMP or text), so no GPS position or camera serial leaks through them.
- Pillow's text-chunk caps (``PngImagePlugin.MAX_TEXT_CHUNK`` / ``MAX_TEXT_MEMORY``) are left as they are;
  the generation text is read by our own capped PNG chunk walker, ``image_text_chunks``.

Every failure a creator can cause raises ``ImageRejected`` with a message they can act on. These
functions read the file from its start and leave its position wherever they stopped; they never
close it. No Django here: the worker and the tests call this directly.
"""

import io
import math
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # 40 megapixels, e.g. 8000 x 5000; a decoded RGBA image is then at most 160 MB
MAX_FILE_BYTES = 50 * 1024 * 1024
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
THUMBNAIL_SIZE = 450  # pixels on the long side
THUMBNAIL_QUALITY = 80  # WebP quality
MAX_EXIF_BYTES = 64 * 1024  # a JPEG's EXIF segment can never be larger; PNG eXIf and WebP EXIF can
MAX_ICC_BYTES = 1024 * 1024  # larger colour profiles are ignored (the thumbnail is then left unconverted)

# The PNG text walker (image_text_chunks).
MAX_TEXT_CHUNK_BYTES = 1024 * 1024  # per chunk, both as stored and once decompressed
MAX_TEXT_TOTAL_BYTES = 8 * 1024 * 1024  # all text chunks together, stored plus decompressed
MAX_PNG_CHUNKS = 100_000  # chunks walked before giving up (a 50 MiB file of empty chunks is 4 million)

MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}

NOT_AN_IMAGE = "This file is not a PNG, JPEG, WebP or GIF image."
TRUNCATED = "The image file is truncated; upload it again."
DAMAGED = "The image file is damaged and cannot be read; export it again and upload the new file."
TEXT_TOO_LARGE = (
    "The image carries more embedded text than the hub reads (over 1 MiB in one text chunk); "
    "save it again without the extra metadata."
)

# Lower Pillow's bomb threshold to ours (never raise it, in case the process set a stricter one). With
# this, Pillow warns above MAX_PIXELS and refuses above 2 x MAX_PIXELS; the warning is an error inside
# this module (see _pillow_guard). It applies process-wide from the moment this module is imported.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PILLOW_FORMATS = sorted(ALLOWED_FORMATS)
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 minus DHT, JPG, DAC
_MAX_JPEG_SEGMENTS = 1024
_MAX_JPEG_FILL_BYTES = 64
_OVERSIZED_METADATA_LIMITS = {
    "exif": MAX_EXIF_BYTES,
    "Raw profile type exif": 2 * MAX_EXIF_BYTES + 64,  # hex text in a PNG text chunk
    "xmp": MAX_EXIF_BYTES,
    "XML:com.adobe.xmp": MAX_EXIF_BYTES,
}
_ORIENTATIONS_THAT_SWAP_SIDES = {5, 6, 7, 8}


class ImageRejected(ValueError):
    """The upload is not an image the hub accepts; ``str(error)`` tells the creator why and what to do."""


@dataclass
class ImageInfo:
    width: int  # as displayed, i.e. after the EXIF orientation is applied
    height: int
    format: str  # one of ALLOWED_FORMATS
    mime_type: str


def inspect_image(f: BinaryIO) -> ImageInfo:
    """Check that ``f`` is an acceptable image and return its displayed size and type.

    The file is verified and decoded once in full (the first frame of an animation), so a truncated or
    damaged file is rejected here rather than when someone views it. Raises ``ImageRejected``.
    """
    with _decoded(f) as (im, fmt):
        width, height = im.size
        if _orientation(im) in _ORIENTATIONS_THAT_SWAP_SIDES:
            width, height = height, width
        return ImageInfo(width=width, height=height, format=fmt, mime_type=MIME_TYPES[fmt])


def perceptual_hash(f: BinaryIO) -> str:
    """imagehash's pHash of the first frame, as 16 hex digits: near-identical images (resized,
    re-encoded, slightly recoloured) get hashes a few bits apart (docs/moderation.md#blocked-images)."""
    import imagehash

    with _pillow_guard(), Image.open(f) as image:
        image.seek(0)
        return str(imagehash.phash(image.convert("RGB")))


def make_thumbnail(f: BinaryIO) -> bytes:
    """A WebP thumbnail of ``f``: at most ``THUMBNAIL_SIZE`` pixels on the long side (never enlarged),
    turned upright per its EXIF orientation, converted to sRGB when it has an RGB colour profile, RGB or
    RGBA (the encoder leaves out an alpha channel that is fully opaque), the first frame of an
    animation, and carrying no metadata at all. Same checks as ``inspect_image``; raises
    ``ImageRejected``.
    """
    with _decoded(f, draft=(THUMBNAIL_SIZE, THUMBNAIL_SIZE)) as (im, _fmt):
        icc_profile = im.info.get("icc_profile")
        box = (THUMBNAIL_SIZE, THUMBNAIL_SIZE)  # square, so the long side fits whichever way it is turned
        if im.mode in ("RGB", "RGBA", "L", "LA"):
            im.thumbnail(box, Image.Resampling.LANCZOS)  # shrink first: only the small copy gets converted
        thumb = _rgb_or_rgba(im)  # a new image; its .info is a copy, so the EXIF orientation travels
        thumb.thumbnail(box, Image.Resampling.LANCZOS)  # palette and 16-bit images resize after converting
        try:
            ImageOps.exif_transpose(thumb, in_place=True)
        except Exception:  # malformed EXIF: the orientation is unknown, keep the image as stored
            pass
        thumb = _to_srgb(thumb, icc_profile)
        thumb.info.clear()  # belt and braces: Pillow's WebP writer takes metadata only from save() arguments
        out = io.BytesIO()
        thumb.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
        return out.getvalue()


def image_text_chunks(f: BinaryIO) -> dict[str, str]:
    """The text chunks of a PNG (``tEXt``, ``zTXt`` and ``iTXt``, before or after the image data), e.g.
    ``{"parameters": "..."}`` for A1111/Forge or ``{"prompt": "...", "workflow": "..."}`` for ComfyUI.

    Our own walker, capped (docs/image-metadata.md#where-the-text-lives): a chunk larger than ``MAX_TEXT_CHUNK_BYTES`` stored or
    decompressed is skipped, reading stops once ``MAX_TEXT_TOTAL_BYTES`` of text has been read or
    inflated, and the walk ends at ``IEND``. Image data is skipped, never read. Malformed chunks (bad CRC,
    missing separators, unknown compression, broken zlib streams) are skipped; this never raises for
    anything in the file. When a keyword repeats, the last one wins, as in Pillow. Other formats give
    ``{}``: JPEG and WebP keep their text in EXIF, which is read elsewhere.
    """
    texts: dict[str, str] = {}
    try:
        f.seek(0)
        if f.read(8) != _PNG_SIGNATURE:
            return texts
        budget = MAX_TEXT_TOTAL_BYTES
        for _ in range(MAX_PNG_CHUNKS):
            head = f.read(8)
            if len(head) < 8:
                break
            length, chunk_type = struct.unpack(">I4s", head)
            if chunk_type == b"IEND" or length > 0x7FFFFFFF:  # the spec caps lengths at 2^31 - 1
                break
            if chunk_type not in (b"tEXt", b"zTXt", b"iTXt") or length > min(MAX_TEXT_CHUNK_BYTES, budget):
                f.seek(length + 4, io.SEEK_CUR)  # data and CRC, unread
                continue
            data = f.read(length)
            crc = f.read(4)
            if len(crc) < 4:
                break  # the file ends inside this chunk
            budget -= length
            if zlib.crc32(data, zlib.crc32(chunk_type)) != int.from_bytes(crc, "big"):
                continue
            decoded, inflated = _decode_text_chunk(chunk_type, data, min(MAX_TEXT_CHUNK_BYTES, budget))
            budget -= inflated  # counted even when the chunk is then skipped: inflating is the cost
            if decoded is not None:
                keyword, value = decoded
                texts[keyword] = value
    except (OSError, ValueError):  # an unreadable or closed file: return what was read
        pass
    return texts


def make_blurhash(f: BinaryIO, *, components_x: int = 4, components_y: int = 3) -> str:
    """The BlurHash of ``f`` (https://blurha.sh): a 28-character placeholder that clients such as
    CivitAI's draw while the image loads. Computed on a copy of at most 32 pixels a side, upright and
    in sRGB like the thumbnail. Same checks as ``inspect_image``; raises ``ImageRejected``."""
    with _decoded(f, draft=(64, 64)) as (im, _fmt):
        small = _rgb_or_rgba(im).convert("RGB")
        small.thumbnail((32, 32), Image.Resampling.BILINEAR)
        try:
            ImageOps.exif_transpose(small, in_place=True)
        except Exception:  # malformed EXIF: keep the image as stored
            pass
        width, height = small.size
        pixels = list(small.get_flattened_data())
    return blurhash_of_pixels(pixels, width, height, components_x=components_x, components_y=components_y)


_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[(value // 83 ** (length - 1 - i)) % 83] for i in range(length))


def _srgb_to_linear(value: int) -> float:
    v = value / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    return int(v * 12.92 * 255 + 0.5) if v <= 0.0031308 else int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def blurhash_of_pixels(
    pixels, width: int, height: int, *, components_x: int = 4, components_y: int = 3
) -> str:
    """BlurHash of ``width`` x ``height`` RGB tuples in row order: the reference algorithm (a few
    cosine components per axis, sRGB to linear and back, base-83 text)."""
    if not (1 <= components_x <= 9 and 1 <= components_y <= 9) or len(pixels) != width * height:
        raise ValueError("BlurHash needs 1-9 components per axis and one pixel per position.")
    linear = [tuple(_srgb_to_linear(c) for c in pixel[:3]) for pixel in pixels]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(components_x)]
    cos_y = [[math.cos(math.pi * j * y / height) for y in range(height)] for j in range(components_y)]
    factors = []
    for j in range(components_y):
        for i in range(components_x):
            scale = (1 if i == 0 and j == 0 else 2) / (width * height)
            r = g = b = 0.0
            for y in range(height):
                row, cy = y * width, cos_y[j][y]
                for x in range(width):
                    basis = cos_x[i][x] * cy
                    pr, pg, pb = linear[row + x]
                    r += basis * pr
                    g += basis * pg
                    b += basis * pb
            factors.append((r * scale, g * scale, b * scale))
    dc, ac = factors[0], factors[1:]
    text = _base83((components_x - 1) + (components_y - 1) * 9, 1)
    if ac:
        quantised_max = max(0, min(82, int(max(abs(v) for f in ac for v in f) * 166 - 0.5)))
        maximum = (quantised_max + 1) / 166
    else:
        quantised_max, maximum = 0, 1.0
    text += _base83(quantised_max, 1)
    text += _base83(
        (_linear_to_srgb(dc[0]) << 16) + (_linear_to_srgb(dc[1]) << 8) + _linear_to_srgb(dc[2]), 4
    )

    def quantise(v: float) -> int:
        scaled = v / maximum
        return max(0, min(18, int(math.copysign(abs(scaled) ** 0.5, scaled) * 9 + 9.5)))

    for r, g, b in ac:
        text += _base83(quantise(r) * 19 * 19 + quantise(g) * 19 + quantise(b), 2)
    return text


# Opening and decoding -------------------------------------------------------------------------------


@contextmanager
def _decoded(f: BinaryIO, draft: tuple[int, int] | None = None) -> Iterator[tuple[Image.Image, str]]:
    """The checked, verified and fully decoded first frame of ``f`` and its format. Any failure inside
    the ``with`` block (ours or Pillow's) becomes ``ImageRejected``."""
    with _pillow_guard():
        fmt = _precheck(f)
        with Image.open(f, formats=_PILLOW_FORMATS) as im:
            _check_pixels(*im.size)
            im.verify()  # PNG: every chunk's CRC up to IEND. The image is unusable afterwards.
        with Image.open(f, formats=_PILLOW_FORMATS) as im:
            _check_pixels(*im.size)
            if draft is not None and im.format in ("JPEG", "MPO"):
                im.draft(None, draft)  # decode a JPEG at 1/2, 1/4 or 1/8 scale when that is big enough
            im.load()  # decodes everything: a truncated file fails here
            _drop_oversized_metadata(im.info)
            yield im, fmt


@contextmanager
def _pillow_guard() -> Iterator[None]:
    with warnings.catch_warnings():
        # Pillow's UserWarnings are about the file ("Possibly corrupt EXIF data", "malformed MPO"); the
        # outcome must not depend on the warning filters of whoever calls us.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ImageRejected:
            raise
        except MemoryError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageRejected(
                f"The image is larger than the limit of {_megapixels(MAX_PIXELS)} megapixels."
            ) from e
        except UnidentifiedImageError as e:  # the magic bytes matched, so it is a broken image
            raise ImageRejected(DAMAGED) from e
        except (EOFError, struct.error) as e:
            raise ImageRejected(TRUNCATED) from e
        except OSError as e:
            raise ImageRejected(TRUNCATED if "truncated" in str(e).lower() else DAMAGED) from e
        except ValueError as e:
            # Pillow's own text caps: "Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK",
            # "Too much memory used in text chunks".
            message = str(e)
            raise ImageRejected(TEXT_TOO_LARGE if "MAX_TEXT" in message else DAMAGED) from e
        except Exception as e:  # SyntaxError, IndexError, ... from a plugin: never a 500
            raise ImageRejected(DAMAGED) from e


def _precheck(f: BinaryIO) -> str:
    """File size, magic bytes and the header's pixel count, before Pillow sees the file."""
    f.seek(0, io.SEEK_END)
    size = f.tell()
    if size > MAX_FILE_BYTES:
        raise ImageRejected(
            f"The file is {size / 2**20:.1f} MiB; the limit for images is {MAX_FILE_BYTES / 2**20:g} MiB."
        )
    f.seek(0)
    head = f.read(32)
    fmt = _sniff(head)
    if fmt is None:
        raise ImageRejected(NOT_AN_IMAGE)
    if fmt == "WEBP" and int.from_bytes(head[4:8], "little") + 8 > size:
        raise ImageRejected(TRUNCATED)  # the RIFF header gives the full length
    dimensions = _jpeg_dimensions(f) if fmt == "JPEG" else _header_dimensions(fmt, head)
    if dimensions is not None:
        _check_pixels(*dimensions)
    return fmt


def _sniff(head: bytes) -> str | None:
    if head.startswith(_PNG_SIGNATURE):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _header_dimensions(fmt: str, head: bytes) -> tuple[int, int] | None:
    """Width and height from the first 32 bytes of a PNG, GIF or WebP, or None if not found there.
    For WebP this matters: Pillow's WebP opener allocates the whole canvas before it checks the size."""
    if fmt == "PNG" and len(head) >= 24 and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if fmt == "GIF" and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if fmt == "WEBP" and len(head) >= 30:
        kind = head[12:16]
        if kind == b"VP8X":
            return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
        if kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
            width, height = struct.unpack("<HH", head[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L" and head[20] == 0x2F:
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_dimensions(f: BinaryIO) -> tuple[int, int] | None:
    """Width and height from a JPEG's first SOF marker, skipping other segments by their length."""
    f.seek(2)
    for _ in range(_MAX_JPEG_SEGMENTS):
        if f.read(1) != b"\xff":
            return None
        marker = 0xFF
        for _ in range(_MAX_JPEG_FILL_BYTES):  # a marker may be preceded by any number of 0xFF
            byte = f.read(1)
            if not byte:
                return None
            marker = byte[0]
            if marker != 0xFF:
                break
        if marker in _JPEG_SOF_MARKERS:
            segment = f.read(7)  # length (2), precision (1), height (2), width (2)
            if len(segment) < 7:
                return None
            height, width = struct.unpack(">HH", segment[3:7])
            return width, height
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn, SOI: no length
            continue
        if marker in (0xD9, 0xDA, 0xFF):  # EOI or scan data before any SOF, or endless fill
            return None
        length = f.read(2)
        if len(length) < 2 or int.from_bytes(length, "big") < 2:
            return None
        f.seek(int.from_bytes(length, "big") - 2, io.SEEK_CUR)
    return None


def _check_pixels(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ImageRejected(DAMAGED)
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; the limit is {_megapixels(MAX_PIXELS)} megapixels."
        )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


# Metadata ---------------------------------------------------------------------------------------------


def _drop_oversized_metadata(info: dict) -> None:
    """Forget EXIF/XMP blocks too large to parse: their orientation is ignored and nothing copies them."""
    for key, limit in _OVERSIZED_METADATA_LIMITS.items():
        value = info.get(key)
        if value is not None and len(value) > limit:
            del info[key]


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # malformed EXIF: treat as upright
        return 1


def _rgb_or_rgba(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I;16") or im.mode == "I":  # 16-bit greyscale PNG: scale, do not clip to white
        im = (im if im.mode == "I" else im.convert("I")).point(lambda v: v * (1 / 256)).convert("L")
    elif im.mode == "F":
        im = im.convert("L")
    has_alpha = im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info
    return im.convert("RGBA" if has_alpha else "RGB")


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert from an embedded RGB colour profile to sRGB (the thumbnail carries no profile, and
    browsers assume sRGB). Best effort: an unusable profile leaves the pixels as they are."""
    if not icc_profile or len(icc_profile) > MAX_ICC_BYTES or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return im
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(im, source, srgb, outputMode=im.mode) or im
    except Exception:  # ImportError (no LittleCMS), PyCMSError, OSError: keep the unconverted pixels
        return im


# PNG text chunks ----------------------------------------------------------------------------------------


def _decode_text_chunk(chunk_type: bytes, data: bytes, limit: int) -> tuple[tuple[str, str] | None, int]:
    """((keyword, text) or None if the chunk is malformed or would inflate past ``limit``, bytes inflated)."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79:
        return None, 0
    inflated = 0
    if chunk_type == b"tEXt":
        text = rest.decode("latin-1")
    elif chunk_type == b"zTXt":
        if rest[:1] != b"\0":  # compression method 0 (zlib) is the only one defined
            return None, 0
        raw, inflated = _inflate(rest[1:], limit)
        if raw is None:
            return None, inflated
        text = raw.decode("latin-1")
    else:  # iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text
        if len(rest) < 2:
            return None, 0
        compressed, method = rest[0], rest[1]
        _language, sep1, rest = rest[2:].partition(b"\0")
        _translated, sep2, raw = rest.partition(b"\0")
        if not (sep1 and sep2) or compressed not in (0, 1) or (compressed and method != 0):
            return None, 0
        if compressed:
            raw, inflated = _inflate(raw, limit)
            if raw is None:
                return None, inflated
        text = raw.decode("utf-8", errors="replace")
    return (keyword.decode("latin-1"), text), inflated


def _inflate(data: bytes, limit: int) -> tuple[bytes | None, int]:
    """(the decompressed zlib stream, or None if it is broken, incomplete or longer than ``limit``; the
    number of bytes produced). Never produces more than ``limit + 1`` bytes, whatever the stream holds."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None, 0
    if len(out) > limit or inflater.unconsumed_tail or not inflater.eof:
        return None, len(out)
    return out, len(out)
