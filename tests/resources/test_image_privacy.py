"""resources/image_privacy.py: copies without GPS or camera facts, generation text kept, pixels as
they were (docs/images.md#what-is-served)."""

import io

import pytest
from PIL import Image, PngImagePlugin

from resources.image_privacy import strip_private_metadata


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Nikon", "Z6"
    exif[0x010E] = "workflow-free description"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (33.0, 51.0, 54.0)
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00a red fox, Steps: 20"
    return exif


def encode(fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "purple").save(out, fmt, exif=exif_with_gps().tobytes(), **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_and_camera_are_gone_and_the_user_comment_stays(fmt):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a red fox\nSteps: 20, Seed: 3")
    kwargs = {"pnginfo": info} if fmt == "PNG" else {"lossless": True} if fmt == "WEBP" else {}
    original = encode(fmt, **kwargs)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    copy = strip_private_metadata(original)
    im = Image.open(io.BytesIO(copy))
    exif = im.getexif()
    assert not exif.get_ifd(0x8825) and 0x010F not in exif and 0x0110 not in exif
    assert exif[0x010E] == "workflow-free description"
    assert b"a red fox, Steps: 20" in exif.get_ifd(0x8769)[0x9286]
    assert b"Nikon" not in copy
    if fmt == "PNG":
        assert im.text["parameters"] == "a red fox\nSteps: 20, Seed: 3"
    original_pixels = Image.open(io.BytesIO(original)).convert("RGB").tobytes()
    assert im.convert("RGB").tobytes() == original_pixels  # never re-encoded


def test_an_image_without_metadata_comes_back_unchanged():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    assert strip_private_metadata(out.getvalue()) == out.getvalue()


def test_xmp_is_dropped_from_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(
        out, "JPEG", xmp=b"<x:xmpmeta><exif:GPSLatitude>1,2N</exif:GPSLatitude></x:xmpmeta>"
    )
    assert b"GPSLatitude" in out.getvalue()
    copy = strip_private_metadata(out.getvalue())
    assert b"GPSLatitude" not in copy and Image.open(io.BytesIO(copy)).size == (8, 8)
