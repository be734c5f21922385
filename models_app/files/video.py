"""Short example clips (MP4, WebM): what they are, read from their container without decoding a frame.

Clips come from strangers, like images (docs/video.md). The web process never decodes them:

- ``probe_video`` walks the container's own structure, ISO BMFF boxes for MP4 and EBML elements for
  WebM, reading a few header bytes at a time and seeking past everything else. Every size is checked
  to lie inside its parent and the file, a position only moves forward, the number of boxes or
  elements walked is capped, and only the few containers that hold the facts are entered (so a
  deeply nested file is skipped, not recursed into). It returns the container, the duration and the
  picture size, or raises ``VideoRejected`` with a sentence.
- ``make_poster`` draws the first frame with ffmpeg, run by the worker in a subprocess with a time
  limit, a memory limit and one thread; when no ffmpeg is found, or it fails, a neutral placeholder
  is drawn instead, so a clip always has a poster.

No Django here: the worker and the tests call this directly.
"""

import io
import math
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageDraw

MAX_DURATION_SECONDS = 60
MAX_VIDEO_BYTES = 100 * 1024 * 1024
MAX_DIMENSION = 4096  # pixels on either side
MAX_BOXES = 10_000  # MP4 boxes or WebM elements walked before giving up
POSTER_SIZE = 450  # pixels on the long side, like image thumbnails
POSTER_TIMEOUT_SECONDS = 30
POSTER_MEMORY_BYTES = 1024 * 1024 * 1024  # address space ffmpeg may use
POSTER_MAX_FRAME_BYTES = 64 * 1024 * 1024  # the PNG ffmpeg writes for one frame

VIDEO_MIME_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}

NOT_A_CLIP = "This file is not an MP4 or WebM video."
TRUNCATED = "The video file is truncated; export it again and upload the new file."


class VideoRejected(ValueError):
    """The clip is not one the hub accepts; the message says why, in a sentence for the creator."""


@dataclass
class VideoInfo:
    container: str  # "mp4" or "webm"
    duration_seconds: float
    width: int
    height: int

    @property
    def mime_type(self) -> str:
        return VIDEO_MIME_TYPES[self.container]


def probe_video(f: BinaryIO, size: int) -> VideoInfo:
    """Read a clip's container, duration and picture size from its structure; check the caps."""
    if size > MAX_VIDEO_BYTES:
        raise VideoRejected(
            f"The clip is {size:,} bytes; example clips may be at most {MAX_VIDEO_BYTES // (1024 * 1024)} MB."
        )
    f.seek(0)
    head = f.read(12)
    if len(head) >= 8 and head[4:8] == b"ftyp":
        info = _probe_mp4(_Reader(f, size))
    elif head[:4] == b"\x1a\x45\xdf\xa3":
        info = _probe_webm(_Reader(f, size))
    else:
        raise VideoRejected(NOT_A_CLIP)
    if not math.isfinite(info.duration_seconds) or info.duration_seconds <= 0:
        raise VideoRejected(
            "The clip does not say how long it is; export it again as a finished MP4 or WebM."
        )
    if info.duration_seconds > MAX_DURATION_SECONDS:
        raise VideoRejected(
            f"The clip lasts {info.duration_seconds:.1f} seconds; example clips may last at most "
            f"{MAX_DURATION_SECONDS} seconds."
        )
    if not info.width or not info.height:
        raise VideoRejected("The clip has no video track with a picture size.")
    if info.width > MAX_DIMENSION or info.height > MAX_DIMENSION:
        raise VideoRejected(
            f"The clip is {info.width} x {info.height} pixels; example clips may be at most "
            f"{MAX_DIMENSION} pixels on each side."
        )
    info.duration_seconds = round(info.duration_seconds, 3)
    return info


class _Reader:
    """Reads at absolute positions inside [0, size) and counts what it walks."""

    def __init__(self, f: BinaryIO, size: int):
        self.f, self.size, self.walked = f, size, 0

    def read_at(self, pos: int, n: int) -> bytes:
        if pos < 0 or pos + n > self.size:
            raise VideoRejected(TRUNCATED)
        self.f.seek(pos)
        data = self.f.read(n)
        if len(data) != n:
            raise VideoRejected(TRUNCATED)
        return data

    def tick(self, what: str) -> None:
        self.walked += 1
        if self.walked > MAX_BOXES:
            raise VideoRejected(f"The clip has more than {MAX_BOXES:,} {what}; the hub does not read it.")


# MP4 (ISO base media file format): a box is a 32-bit big-endian size (1 = a 64-bit size follows,
# 0 = to the end of its parent), a 4-character type, then its payload.


def _boxes(r: _Reader, start: int, end: int):
    """(type, payload start, box end) of each box in [start, end); every box ends past its start."""
    pos = start
    while pos < end:
        r.tick("boxes")
        if end - pos < 8:
            raise VideoRejected("A box in the MP4 file is cut off; export the clip again.")
        size, kind = struct.unpack(">I4s", r.read_at(pos, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", r.read_at(pos + 8, 8))
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise VideoRejected(
                f"The MP4 box {_name(kind)} says it is {size} bytes, shorter than its own header."
            )
        if size > end - pos:
            raise VideoRejected(
                f"The MP4 box {_name(kind)} says it is {size:,} bytes, which runs past the end of the file."
            )
        yield kind, pos + header, pos + size
        pos += size


def _name(kind: bytes) -> str:
    text = kind.decode("latin-1")
    return repr(text) if text.isprintable() else repr(kind.hex())


def _probe_mp4(r: _Reader) -> VideoInfo:
    timescale = duration = fragment_duration = None
    width = height = 0
    for kind, start, end in _boxes(r, 0, r.size):
        if kind != b"moov":
            continue  # mdat and the rest are skipped, never read
        for child, cstart, cend in _boxes(r, start, end):
            if child == b"mvhd":
                timescale, duration = _mvhd(r, cstart, cend)
            elif child == b"mvex":  # a fragmented MP4 may give its length here instead
                for grandchild, gstart, gend in _boxes(r, cstart, cend):
                    if grandchild == b"mehd":
                        fragment_duration = _full_box_number(r, gstart, gend)
            elif child == b"trak":
                for grandchild, gstart, gend in _boxes(r, cstart, cend):
                    if grandchild == b"tkhd":
                        w, h = _tkhd(r, gstart, gend)
                        if w and h and not (width and height):
                            width, height = w, h
        break
    else:
        raise VideoRejected("The MP4 file has no movie header (moov box), so it can't be played.")
    if not timescale:
        raise VideoRejected("The MP4 file's movie header has no time scale, so its length is unknown.")
    if duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF) and fragment_duration:
        duration = fragment_duration
    return VideoInfo("mp4", (duration or 0) / timescale, width, height)


def _mvhd(r: _Reader, start: int, end: int) -> tuple[int, int]:
    version = r.read_at(start, 1)[0]
    if version == 1:
        need, fmt = 4 + 8 + 8 + 4 + 8, ">4x8x8xIQ"
    else:
        need, fmt = 4 + 4 + 4 + 4 + 4, ">4x4x4xII"
    if end - start < need:
        raise VideoRejected("The MP4 movie header (mvhd) is cut off.")
    return struct.unpack(fmt, r.read_at(start, need))


def _full_box_number(r: _Reader, start: int, end: int) -> int:
    version = r.read_at(start, 1)[0]
    need = 4 + (8 if version == 1 else 4)
    if end - start < need:
        raise VideoRejected("The MP4 fragment header (mehd) is cut off.")
    data = r.read_at(start + 4, need - 4)
    return struct.unpack(">Q" if version == 1 else ">I", data)[0]


def _tkhd(r: _Reader, start: int, end: int) -> tuple[int, int]:
    version = r.read_at(start, 1)[0]
    # Width and height are the last 8 bytes, 16.16 fixed point, after the version's time fields.
    need = 4 + (8 + 8 + 4 + 4 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4) + 8 + 2 + 2 + 2 + 2 + 36 + 8
    if end - start < need:
        raise VideoRejected("The MP4 track header (tkhd) is cut off.")
    w, h = struct.unpack(">II", r.read_at(start + need - 8, 8))
    return w >> 16, h >> 16


# WebM (Matroska): an element is an ID and a size, both EBML variable-length integers, then its data.
_EBML = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83
_VIDEO = 0xE0
_PIXEL_WIDTH = 0xB0
_PIXEL_HEIGHT = 0xBA
_CLUSTER = 0x1F43B675
_UNKNOWN = -1


def _vint(r: _Reader, pos: int, end: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at pos: (value, length). At most 8 bytes (4 for an ID)."""
    if pos >= end:
        raise VideoRejected("An element in the WebM file is cut off; export the clip again.")
    first = r.read_at(pos, 1)[0]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > (4 if keep_marker else 8):
        raise VideoRejected("The WebM file has an element with an invalid size or ID.")
    if pos + length > end:
        raise VideoRejected("An element in the WebM file is cut off; export the clip again.")
    data = r.read_at(pos, length)
    value = int.from_bytes(data, "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    if value == (1 << (7 * length)) - 1:
        return _UNKNOWN, length
    return value, length


def _elements(r: _Reader, start: int, end: int, *, unknown_ok: frozenset = frozenset()):
    """(id, data start, data end) of each element in [start, end); every element ends past its start.
    Only the IDs in `unknown_ok` may have an unknown size (Matroska allows it for Segment and Cluster)."""
    pos = start
    while pos < end:
        r.tick("elements")
        element_id, id_len = _vint(r, pos, end, keep_marker=True)
        size, size_len = _vint(r, pos + id_len, end, keep_marker=False)
        data_start = pos + id_len + size_len
        if size == _UNKNOWN:
            if element_id not in unknown_ok:
                raise VideoRejected("The WebM file has an element of unknown size where the hub needs one.")
            size = end - data_start  # a live-recorded Segment or Cluster: runs to the end
        if size > end - data_start:
            raise VideoRejected(
                f"A WebM element says it is {size:,} bytes, which runs past the end of the file."
            )
        yield element_id, data_start, data_start + size
        pos = data_start + size  # the ID and size take at least 2 bytes: always forward


def _uint(r: _Reader, start: int, end: int) -> int:
    if end - start > 8:
        raise VideoRejected("The WebM file has a number longer than 8 bytes.")
    return int.from_bytes(r.read_at(start, end - start), "big") if end > start else 0


def _float(r: _Reader, start: int, end: int) -> float:
    if end - start == 4:
        return struct.unpack(">f", r.read_at(start, 4))[0]
    if end - start == 8:
        return struct.unpack(">d", r.read_at(start, 8))[0]
    raise VideoRejected("The WebM file's duration is not a 4- or 8-byte number.")


def _probe_webm(r: _Reader) -> VideoInfo:
    elements = _elements(r, 0, r.size, unknown_ok=frozenset({_SEGMENT}))
    element_id, start, end = next(elements)
    if element_id != _EBML:
        raise VideoRejected(NOT_A_CLIP)
    doctype = b""
    for child, cstart, cend in _elements(r, start, end):
        if child == _DOCTYPE and cend - cstart <= 16:
            doctype = r.read_at(cstart, cend - cstart).rstrip(b"\0")
    if doctype not in (b"webm", b"matroska"):
        raise VideoRejected(f"This EBML file is a {doctype.decode('latin-1')!r} document, not a WebM video.")
    scale, duration, width, height = 1_000_000, None, 0, 0
    for element_id, start, end in elements:
        if element_id != _SEGMENT:
            continue
        for child, cstart, cend in _elements(r, start, end, unknown_ok=frozenset({_CLUSTER})):
            if child == _INFO:
                for grandchild, gstart, gend in _elements(r, cstart, cend):
                    if grandchild == _TIMECODE_SCALE:
                        scale = _uint(r, gstart, gend)
                    elif grandchild == _DURATION:
                        duration = _float(r, gstart, gend)
            elif child == _TRACKS:
                for entry, estart, eend in _elements(r, cstart, cend):
                    if entry == _TRACK_ENTRY and not (width and height):
                        width, height = _webm_video_size(r, estart, eend)
            elif child == _CLUSTER:
                break  # the frames start here: the headers are read, nothing after them is needed
        break
    else:
        raise VideoRejected("The WebM file has no Segment, so it holds no video.")
    if duration is None:
        raise VideoRejected(
            "The WebM file does not say how long it is (a live recording); export it again as a finished file."
        )
    return VideoInfo("webm", duration * scale / 1e9, width, height)


def _webm_video_size(r: _Reader, start: int, end: int) -> tuple[int, int]:
    track_type, width, height = None, 0, 0
    for element_id, cstart, cend in _elements(r, start, end):
        if element_id == _TRACK_TYPE:
            track_type = _uint(r, cstart, cend)
        elif element_id == _VIDEO:
            for grandchild, gstart, gend in _elements(r, cstart, cend):
                if grandchild == _PIXEL_WIDTH:
                    width = _uint(r, gstart, gend)
                elif grandchild == _PIXEL_HEIGHT:
                    height = _uint(r, gstart, gend)
    return (width, height) if track_type == 1 else (0, 0)


# The poster: the worker only.


def find_ffmpeg() -> str | None:
    """An ffmpeg on PATH, else the static one the imageio-ffmpeg package ships, else None."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        return None


def make_poster(f: BinaryIO, info: VideoInfo) -> tuple[bytes, str]:
    """A WebP poster for the clip and how it was made: ("frame", ...) from its first frame, or
    ("placeholder", ...) when no decoder is available or it failed (a neutral grey frame of the
    clip's shape). Decoding is ffmpeg's, in a child process with limits: a hostile stream can crash
    or stall it, never the worker."""
    frame = _first_frame(f)
    if frame is not None:
        try:
            with Image.open(io.BytesIO(frame), formats=["PNG"]) as im:
                im.load()
                return _webp(im), "frame"
        except Exception:  # ffmpeg wrote something that is not a PNG frame: use the placeholder
            pass
    return _webp(_placeholder(info.width, info.height)), "placeholder"


def _first_frame(f: BinaryIO) -> bytes | None:
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".clip") as tmp:
        f.seek(0)
        copied = 0
        while chunk := f.read(1024 * 1024):
            copied += len(chunk)
            if copied > MAX_VIDEO_BYTES:
                return None
            tmp.write(chunk)
        tmp.flush()
        command = [
            ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
            "-i", tmp.name, "-frames:v", "1", "-an", "-sn",
            "-vf", f"scale='min({POSTER_SIZE},iw)':-2", "-f", "image2pipe", "-c:v", "png", "-",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                timeout=POSTER_TIMEOUT_SECONDS,
                preexec_fn=_limit_child if os.name == "posix" else None,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    if done.returncode != 0 or not done.stdout or len(done.stdout) > POSTER_MAX_FRAME_BYTES:
        return None
    return done.stdout


def _limit_child() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (POSTER_MEMORY_BYTES, POSTER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (POSTER_TIMEOUT_SECONDS, POSTER_TIMEOUT_SECONDS))


def _placeholder(width: int, height: int) -> Image.Image:
    scale = POSTER_SIZE / max(width, height, 1)
    w, h = max(16, round(width * scale)), max(16, round(height * scale))
    im = Image.new("RGB", (w, h), (64, 68, 76))
    r = min(w, h) // 6
    cx, cy = w // 2, h // 2
    ImageDraw.Draw(im).polygon(
        [(cx - r // 2, cy - r), (cx - r // 2, cy + r), (cx + r, cy)], fill=(200, 204, 212)
    )
    return im


def _webp(im: Image.Image) -> bytes:
    im = im.convert("RGB")
    im.thumbnail((POSTER_SIZE, POSTER_SIZE))
    out = io.BytesIO()
    im.save(out, "WEBP", quality=80)  # a new image: no metadata of the clip comes along
    return out.getvalue()
