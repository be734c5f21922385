"""Short example clips (issue 13, item 1): MP4 and WebM probed from their containers without decoding,
hostile containers refused with a sentence (never a hang), and clips going through the upload pipeline
to a playable example with a poster.

The clips are built here byte by byte (ISO BMFF boxes, EBML elements), so each test says exactly what
the file holds."""

import io
import struct
import time

import pytest
from django.test import Client

from models_app import services
from models_app.files import video
from models_app.files.video import VideoRejected, probe_video
from models_app.models import FileStatus, FileType, ModelFile
from models_app.storage import model_storage
from resources.models import Image
from tests.factories import publish_model

# MP4 -----------------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">IH10x36x24xI", 0x00010000, 0x0100, 2)  # rate, volume, matrix, next track id
    return box(b"mvhd", bytes([version, 0, 0, 0]) + times + rest)


def tkhd(width: int, height: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIIQ", 0, 0, 1, 0, 0)
    else:
        times = struct.pack(">IIIII", 0, 0, 1, 0, 0)
    rest = struct.pack(">8xhhhH36xII", 0, 0, 0, 0, width << 16, height << 16)
    return box(b"tkhd", bytes([version, 0, 0, 3]) + times + rest)


def mp4(*, seconds: float = 2.0, width: int = 512, height: int = 288, version: int = 0, extra=b"") -> bytes:
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    audio = box(b"trak", tkhd(0, 0, version))  # an audio track has no picture size
    moov = box(
        b"moov", mvhd(1000, int(seconds * 1000), version) + audio + box(b"trak", tkhd(width, height, version))
    )
    return ftyp + extra + box(b"mdat", b"\0" * 64) + moov


def probe(data: bytes):
    return probe_video(io.BytesIO(data), len(data))


def test_a_crafted_mp4_is_probed_for_its_length_and_size():
    info = probe(mp4(seconds=2.5, width=512, height=288))
    assert (info.container, info.duration_seconds, info.width, info.height) == ("mp4", 2.5, 512, 288)
    assert info.mime_type == "video/mp4"


def test_version_1_headers_and_64_bit_box_sizes_are_read():
    big_free = struct.pack(">I4sQ", 1, b"free", 16 + 8) + b"\0" * 8  # size 1: a 64-bit size follows
    info = probe(mp4(seconds=4, width=640, height=360, version=1, extra=big_free))
    assert (info.duration_seconds, info.width, info.height) == (4.0, 640, 360)


def test_a_box_of_size_zero_runs_to_the_end_of_the_file():
    data = mp4(seconds=1) + struct.pack(">I4s", 0, b"free") + b"\0" * 100
    assert probe(data).duration_seconds == 1.0


HOSTILE_MP4 = {
    "box size past the end": (
        box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 1_000_000, b"moov") + b"\0" * 100,
        "The MP4 box 'moov' says it is 1,000,000 bytes, which runs past the end of the file.",
    ),
    "huge 64-bit size": (
        box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4sQ", 1, b"mdat", 2**63) + b"\0" * 100,
        "runs past the end of the file",
    ),
    "64-bit size of zero": (
        box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4sQ", 1, b"free", 0) + b"\0" * 100,
        "The MP4 box 'free' says it is 0 bytes, shorter than its own header.",
    ),
    "size smaller than a header": (
        box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 4, b"free") + b"\0" * 100,
        "shorter than its own header",
    ),
    "size zero box without a movie": (
        box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 0, b"free") + b"\0" * 100,
        "The MP4 file has no movie header (moov box), so it can't be played.",
    ),
    "truncated": (mp4()[:-40], "runs past the end of the file"),
    "cut in a header": (mp4()[:-3] + b"", "runs past the end of the file"),
    "wrong magic": (b"GIF89a" + b"\0" * 100, "This file is not an MP4 or WebM video."),
    "too long": (mp4(seconds=90), "The clip lasts 90.0 seconds; example clips may last at most 60 seconds."),
    "too large a picture": (mp4(width=8192, height=4320), "at most 4096 pixels on each side"),
    "no video track": (
        box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", mvhd(1000, 1000)),
        "The clip has no video track with a picture size.",
    ),
    "no duration": (mp4(seconds=0), "The clip does not say how long it is"),
    "cut-off track header": (
        box(b"ftyp", b"isom\0\0\0\0")
        + box(b"moov", mvhd(1000, 1000) + box(b"trak", box(b"tkhd", b"\0" * 10))),
        "The MP4 track header (tkhd) is cut off.",
    ),
}


def _nested(depth: int) -> bytes:
    inner = b""
    for _ in range(depth):
        inner = box(b"trak", inner)
    return inner


@pytest.mark.parametrize("case", sorted(HOSTILE_MP4))
def test_a_hostile_mp4_is_refused_with_a_sentence(case):
    data, message = HOSTILE_MP4[case]
    with pytest.raises(VideoRejected) as refused:
        probe(data)
    assert message in str(refused.value)
    assert str(refused.value).endswith(".")


def test_deep_nesting_and_box_floods_end_quickly_with_a_sentence():
    ftyp = box(b"ftyp", b"isom\0\0\0\0")
    deep = ftyp + box(b"moov", mvhd(1000, 1000) + _nested(5000))  # never recursed into
    flood = ftyp + box(b"free") * 20_000
    for data, message in ((deep, "no video track"), (flood, "more than 10,000 boxes")):
        started = time.monotonic()
        with pytest.raises(VideoRejected) as refused:
            probe(data)
        assert message in str(refused.value)
        assert time.monotonic() - started < 5


def test_a_file_over_the_size_cap_is_refused_before_reading():
    with pytest.raises(VideoRejected, match="at most 100 MB"):
        probe_video(io.BytesIO(mp4()), 101 * 1024 * 1024)


# WebM ----------------------------------------------------------------------------------------------


def size_vint(n: int) -> bytes:
    return (0x01 << 56 | n).to_bytes(8, "big")  # the 8-byte form, valid for any size


def el(element_id: bytes, payload: bytes) -> bytes:
    return element_id + size_vint(len(payload)) + payload


def uint(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")


EBML, DOCTYPE, SEGMENT = b"\x1a\x45\xdf\xa3", b"\x42\x82", b"\x18\x53\x80\x67"
INFO, SCALE, DURATION = b"\x15\x49\xa9\x66", b"\x2a\xd7\xb1", b"\x44\x89"
TRACKS, ENTRY, TYPE, VIDEO = b"\x16\x54\xae\x6b", b"\xae", b"\x83", b"\xe0"
WIDTH, HEIGHT, CLUSTER = b"\xb0", b"\xba", b"\x1f\x43\xb6\x75"


def webm(*, ms: float = 2500.0, width: int = 512, height: int = 288, doctype=b"webm", info=None) -> bytes:
    header = el(EBML, el(DOCTYPE, doctype))
    if info is None:
        info = el(INFO, el(SCALE, uint(1_000_000)) + el(DURATION, struct.pack(">d", ms)))
    audio = el(ENTRY, el(TYPE, b"\x02"))
    picture = el(ENTRY, el(TYPE, b"\x01") + el(VIDEO, el(WIDTH, uint(width)) + el(HEIGHT, uint(height))))
    return header + el(SEGMENT, info + el(TRACKS, audio + picture) + el(CLUSTER, b"\0" * 32))


def test_a_crafted_webm_is_probed_for_its_length_and_size():
    info = probe(webm(ms=2500.0, width=512, height=288))
    assert (info.container, info.duration_seconds, info.width, info.height) == ("webm", 2.5, 512, 288)


def test_a_webm_with_a_float32_duration_and_another_timecode_scale():
    info_el = el(INFO, el(SCALE, uint(10_000_000)) + el(DURATION, struct.pack(">f", 300.0)))
    assert probe(webm(info=info_el)).duration_seconds == 3.0


def test_a_live_recorded_segment_of_unknown_size_is_read_to_the_end():
    data = webm()
    header_len = len(el(EBML, el(DOCTYPE, b"webm")))
    unknown = SEGMENT + b"\x01\xff\xff\xff\xff\xff\xff\xff"
    data = data[:header_len] + unknown + data[header_len + 4 + 8 :]
    assert probe(data).width == 512


HOSTILE_WEBM = {
    "element past the end": (
        el(EBML, el(DOCTYPE, b"webm")) + SEGMENT + size_vint(10**9) + b"\0" * 20,
        "A WebM element says it is 1,000,000,000 bytes, which runs past the end of the file.",
    ),
    "invalid length marker": (
        el(EBML, el(DOCTYPE, b"webm")) + SEGMENT + b"\x00" * 12,
        "The WebM file has an element with an invalid size or ID.",
    ),
    "not webm": (webm(doctype=b"mkvlike"), "This EBML file is a 'mkvlike' document, not a WebM video."),
    "no duration": (webm(info=el(INFO, el(SCALE, uint(1_000_000)))), "does not say how long it is"),
    "nan duration": (webm(ms=float("nan")), "The clip does not say how long it is"),
    "too long": (webm(ms=120_000.0), "The clip lasts 120.0 seconds"),
    "too wide": (webm(width=5000), "at most 4096 pixels on each side"),
    "truncated": (webm()[:40], "runs past the end of the file"),
    "no segment": (el(EBML, el(DOCTYPE, b"webm")), "The WebM file has no Segment, so it holds no video."),
    "unknown-size info": (
        webm(info=INFO + b"\xff" + b"\0" * 4),
        "The WebM file has an element of unknown size where the hub needs one.",
    ),
    "number longer than 8 bytes": (
        webm(info=el(INFO, el(SCALE, b"\1" * 9) + el(DURATION, struct.pack(">d", 10.0)))),
        "The WebM file has a number longer than 8 bytes.",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_WEBM))
def test_a_hostile_webm_is_refused_with_a_sentence(case):
    data, message = HOSTILE_WEBM[case]
    with pytest.raises(VideoRejected) as refused:
        probe(data)
    assert message in str(refused.value)


def test_deeply_nested_and_flooded_webm_end_quickly_with_a_sentence():
    nested = b""
    for _ in range(3000):
        nested = el(VIDEO, nested)
    deep = webm(info=el(INFO, el(DURATION, struct.pack(">d", 1000.0)) + nested))
    flood = el(EBML, el(DOCTYPE, b"webm")) + el(SEGMENT, b"\xec\x80" * 20_000)  # 20,000 empty Void elements
    for data, message in ((deep, None), (flood, "more than 10,000 elements")):
        started = time.monotonic()
        if message is None:
            assert probe(data).duration_seconds == 1.0  # the nesting is skipped, not recursed into
        else:
            with pytest.raises(VideoRejected, match=message):
                probe(data)
        assert time.monotonic() - started < 5


# Poster and pipeline --------------------------------------------------------------------------------


def real_clip(container: str) -> bytes | None:
    """A real one-second clip made by the ffmpeg the hub uses, or None when there is none."""
    import subprocess
    import tempfile

    ffmpeg = video.find_ffmpeg()
    if ffmpeg is None:
        return None
    codec = "mpeg4" if container == "mp4" else "libvpx"
    with tempfile.NamedTemporaryFile(suffix=f".{container}") as out:
        subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8",
             "-t", "1", "-c:v", codec, out.name],
            check=True, timeout=60,
        )  # fmt: skip
        return out.read()


def test_the_poster_is_a_webp_of_the_first_frame_or_a_neutral_placeholder():
    info = video.VideoInfo("mp4", 2.0, 512, 288)
    poster, how = video.make_poster(io.BytesIO(mp4()), info)  # no frames in it: ffmpeg fails
    assert how == "placeholder" and poster[:4] == b"RIFF" and poster[8:12] == b"WEBP"
    clip = real_clip("mp4")
    if clip is not None:
        poster, how = video.make_poster(io.BytesIO(clip), probe(clip))
        assert how == "frame" and poster[8:12] == b"WEBP"


@pytest.mark.django_db
@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_an_uploaded_clip_is_ready_with_its_probe_and_poster_and_plays_on_the_model_page(
    container, creator, run_on_commit
):
    clip = real_clip(container)
    if clip is None:  # no decoder: the crafted clip still gets a placeholder poster
        clip = (
            mp4(seconds=1, width=64, height=48) if container == "mp4" else webm(ms=1000, width=64, height=48)
        )
    version = publish_model(creator, run_on_commit, name="Tiny Motion", type="MotionModule")
    with run_on_commit():
        added = services.add_file(
            version=version, name=f"dancing.{container}", content=io.BytesIO(clip), type=FileType.IMAGE
        )
    added = ModelFile.objects.get(id=added.id)
    assert added.status == FileStatus.READY, added.status_message
    facts = added.metadata["video"]
    assert facts["container"] == container and (facts["width"], facts["height"]) == (64, 48)
    assert facts["duration_seconds"] == pytest.approx(1.0, abs=0.2)
    assert facts["mime_type"] == f"video/{container}"
    assert facts["poster"] == ("frame" if video.find_ffmpeg() else "placeholder")
    assert model_storage().exists(facts["thumbnail_key"])

    # The example becomes an image row of resources (docs/images.md), served at its own id.
    image_id = Image.objects.get(source_file=added).id
    anonymous = Client()
    poster = anonymous.get(f"/images/thumbnails/{image_id}.webp")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/webp"
    served = anonymous.get(f"/images/{image_id}/dancing.{container}")
    assert served.status_code == 200 and served["Content-Type"] == f"video/{container}"
    assert b"".join(served.streaming_content) == clip
    page = anonymous.get(version.model.get_absolute_url()).content.decode()
    assert (
        f'<video src="/images/{image_id}/dancing.{container}" poster="/images/thumbnails/{image_id}.webp"'
        in page
    )
    assert "muted loop controls playsinline" in page
    # Lists show the poster as the model's preview.
    assert f'src="/images/thumbnails/{image_id}.webp"' in anonymous.get("/models/").content.decode()
    # CivitAI's /images calls it a video, and its type filter finds it there only.
    videos = anonymous.get("/api/v1/images?type=video").json()["items"]
    assert [(i["id"], i["type"], i["width"]) for i in videos] == [(image_id, "video", 64)]
    assert image_id not in [i["id"] for i in anonymous.get("/api/v1/images?type=image").json()["items"]]


@pytest.mark.django_db
def test_a_hostile_clip_upload_ends_rejected_with_a_sentence(creator, run_on_commit):
    version = publish_model(creator, run_on_commit, name="Tiny Motion", type="MotionModule")
    bad = box(b"ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 1_000_000, b"moov") + b"\0" * 100
    with run_on_commit():
        added = services.add_file(
            version=version, name="broken.mp4", content=io.BytesIO(bad), type=FileType.IMAGE
        )
    added = ModelFile.objects.get(id=added.id)
    assert added.status == FileStatus.REJECTED
    assert (
        added.status_message
        == "The MP4 box 'moov' says it is 1,000,000 bytes, which runs past the end of the file."
    )
    assert "video" not in added.metadata
    with run_on_commit():
        renamed = services.add_file(
            version=version,
            name="weights.webm",
            content=io.BytesIO(b"\x80\x02}q\x00." + b"\0" * 64),
            type=FileType.IMAGE,
        )
    renamed = ModelFile.objects.get(id=renamed.id)
    assert renamed.status == FileStatus.REJECTED
    assert renamed.status_message.startswith("This file is named .webm but its content is")


def test_mp4_and_webm_are_accepted_upload_extensions():
    assert services.check_upload_allowed(filename="clip.mp4", size=1000) == "clip.mp4"
    assert services.check_upload_allowed(filename="clip.webm", size=1000) == "clip.webm"
