"""Uploaded images: accepted formats, thumbnails, and the hostile files of docs/hostile-input.md item 9."""

import io
import struct
import tracemalloc
import zlib
from collections.abc import Iterable

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from models_app.files import images
from models_app.files.images import (
    MAX_EXIF_BYTES,
    THUMBNAIL_SIZE,
    ImageRejected,
    image_text_chunks,
    inspect_image,
    make_thumbnail,
)

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
METADATA_CHUNKS = {b"EXIF", b"ICCP", b"XMP "}
INFOTEXT = (
    "masterpiece, 1girl, <lora:detail:0.8>\nNegative prompt: lowres, bad hands\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x768, Model hash: 5ebd52f5d2"
)


# Building test files ---------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def two_colour(size=(60, 30), left=RED, right=BLUE) -> Image.Image:
    """Left half one colour, right half another, so a rotation or flip is visible."""
    im = Image.new("RGB", size, left)
    im.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return im


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with(before_idat: Iterable[bytes] = (), after_idat: Iterable[bytes] = ()) -> bytes:
    """A small Pillow PNG with extra chunks right after IHDR and right before IEND."""
    png = encode(Image.new("RGB", (8, 8), GREEN), "PNG")
    assert png[12:16] == b"IHDR" and png[-8:-4] == b"IEND"
    return png[:33] + b"".join(before_idat) + png[33:-12] + b"".join(after_idat) + png[-12:]


def webp_chunk_types(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    types, pos = [], 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        types.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    return types


def close_to(pixel, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def open_thumbnail(data: bytes) -> Image.Image:
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "WEBP"
    return thumb


def exif_bytes(**tags) -> bytes:
    exif = Image.Exif()
    for name, value in tags.items():
        exif[ExifTags.Base[name]] = value
    return exif.tobytes()


def rejection(func, data: bytes) -> str:
    with pytest.raises(ImageRejected) as caught:
        func(io.BytesIO(data))
    return str(caught.value)


@pytest.fixture(scope="module")
def zlib_bomb() -> bytes:
    """20 MB of zeros in about 20 KB: past every text cap once inflated."""
    return zlib.compress(bytes(20_000_000), 9)


# Normal uploads -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_png_jpeg_and_webp_uploads_report_their_size_and_type(fmt, mime_type):
    info = inspect_image(io.BytesIO(encode(two_colour((640, 480)), fmt)))
    assert (info.width, info.height, info.format, info.mime_type) == (640, 480, fmt, mime_type)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize(("size", "expected"), [((900, 600), (450, 300)), ((300, 900), (150, 450))])
def test_thumbnail_is_a_webp_whose_long_side_is_the_thumbnail_size(fmt, size, expected):
    assert THUMBNAIL_SIZE == 450
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(encode(two_colour(size), fmt))))
    assert thumb.size == expected
    assert close_to(thumb.getpixel((10, 10)), RED)


def test_a_small_image_is_not_enlarged_for_its_thumbnail():
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(encode(two_colour((120, 80)), "PNG"))))
    assert thumb.size == (120, 80)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_thumbnails_carry_no_exif_colour_profile_or_xmp_from_the_upload(fmt):
    exif = exif_bytes(Make="SecretCam", Model="Serial-123456", Software="SecretSoftware")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description Creator="SecretXMP"/></x:xmpmeta>'
    params = {"exif": exif, "icc_profile": icc, "xmp": xmp}
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("parameters", "SecretPrompt")
        params["pnginfo"] = text
    upload = encode(two_colour((600, 300)), fmt, **params)
    original = Image.open(io.BytesIO(upload))
    assert original.getexif()[ExifTags.Base.Make] == "SecretCam"  # the test file really has them
    assert "icc_profile" in original.info

    data = make_thumbnail(io.BytesIO(upload))

    for secret in (b"SecretCam", b"Serial-123456", b"SecretSoftware", b"SecretXMP", b"SecretPrompt"):
        assert secret not in data
    assert set(webp_chunk_types(data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    thumb = open_thumbnail(data)
    assert not {"exif", "icc_profile", "xmp"} & set(thumb.info)
    assert len(thumb.getexif()) == 0
    assert close_to(thumb.getpixel((10, 10)), RED)  # the sRGB profile did not shift the colours


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_taken_sideways_is_shown_upright(fmt):
    # Stored 600 wide x 300 tall, red left and blue right; orientation 6 means "turn 90 degrees clockwise".
    upload = encode(two_colour((600, 300)), fmt, exif=exif_bytes(Orientation=6))

    info = inspect_image(io.BytesIO(upload))
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))

    assert (info.width, info.height) == (300, 600)
    assert thumb.size == (225, 450)
    assert close_to(thumb.getpixel((112, 50)), RED)
    assert close_to(thumb.getpixel((112, 400)), BLUE)
    assert len(thumb.getexif()) == 0  # turned once, and no orientation left to turn it again


def test_an_animated_gif_thumbnails_its_first_frame():
    frames = [Image.new("RGB", (40, 40), colour) for colour in (RED, GREEN, BLUE)]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(upload)).n_frames == 3

    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))

    assert inspect_image(io.BytesIO(upload)).format == "GIF"
    assert getattr(thumb, "n_frames", 1) == 1
    assert close_to(thumb.getpixel((20, 20)), RED)


def test_an_animated_webp_thumbnails_its_first_frame():
    frames = [Image.new("RGB", (40, 40), colour) for colour in (BLUE, RED)]
    upload = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)

    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))

    assert getattr(thumb, "n_frames", 1) == 1
    assert close_to(thumb.getpixel((20, 20)), BLUE)


def test_a_transparent_png_keeps_its_transparency_and_an_opaque_one_gets_none():
    transparent = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    transparent.paste((0, 0, 255, 255), (0, 0, 20, 40))
    opaque = Image.new("RGBA", (40, 40), (255, 0, 0, 255))

    see_through = open_thumbnail(make_thumbnail(io.BytesIO(encode(transparent, "PNG"))))
    solid = open_thumbnail(make_thumbnail(io.BytesIO(encode(opaque, "PNG"))))

    assert see_through.mode == "RGBA"
    assert see_through.getpixel((30, 20))[3] == 0
    assert see_through.getpixel((10, 20))[3] == 255
    assert solid.mode == "RGB"


def test_a_palette_gif_with_a_transparent_colour_stays_transparent():
    im = Image.new("P", (40, 40), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 20, 40))
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(encode(im, "GIF", transparency=0))))
    assert thumb.getpixel((10, 20))[3] == 0
    assert close_to(thumb.getpixel((30, 20)), RED) and thumb.getpixel((30, 20))[3] == 255


def test_a_16_bit_greyscale_png_thumbnails_grey_not_white():
    upload = encode(Image.new("I;16", (40, 40), 32768), "PNG")
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))
    assert close_to(thumb.getpixel((20, 20)), (128, 128, 128), tolerance=8)


def test_a_cmyk_jpeg_thumbnails_in_rgb():
    upload = encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG")
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))
    assert thumb.mode == "RGB"
    assert close_to(thumb.getpixel((20, 20)), RED)


def swapped_primaries_profile() -> bytes:
    """An RGB profile whose red and green primaries are swapped: its "red" is sRGB's green."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", icc[128:132])
    entries = {bytes(icc[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    icc[red + 4 : red + 12], icc[green + 4 : green + 12] = (
        icc[green + 4 : green + 12],
        icc[red + 4 : red + 12],
    )
    return bytes(icc)


def test_colours_are_converted_to_srgb_before_the_colour_profile_is_dropped():
    upload = encode(Image.new("RGB", (40, 40), RED), "PNG", icc_profile=swapped_primaries_profile())
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))
    red, green, _blue = thumb.getpixel((20, 20))[:3]
    assert green > 200 and red < 60
    assert "icc_profile" not in thumb.info


def test_an_unusable_colour_profile_does_not_stop_the_thumbnail():
    upload = encode(two_colour((60, 30)), "PNG", icc_profile=b"not a colour profile" * 10)
    thumb = open_thumbnail(make_thumbnail(io.BytesIO(upload)))
    assert close_to(thumb.getpixel((5, 15)), RED)
    assert "icc_profile" not in thumb.info


# Image bombs ----------------------------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def webp_claiming(width: int, height: int) -> bytes:
    vp8x = b"\0\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def gif_claiming(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\0\0\0" + b";"


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    ("build", "width", "height"),
    [(png_claiming, 50000, 50000), (webp_claiming, 16384, 16384), (gif_claiming, 65535, 65535)]
    + [(jpeg_claiming, 60000, 60000)],
)
@pytest.mark.parametrize("func", [inspect_image, make_thumbnail])
def test_an_image_claiming_billions_of_pixels_is_refused_from_its_header_before_pillow_opens_it(
    monkeypatch, build, width, height, func
):
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **kw: opened.append(a) or real_open(*a, **kw))
    upload = build(width, height)
    assert len(upload) < 1000

    message = rejection(func, upload)

    assert message == f"The image is {width}×{height} pixels; the limit is 40 megapixels."
    assert opened == []  # no decoder, no canvas: nothing sized from the claim was allocated


def test_pillows_bomb_warning_is_an_error_here_even_if_the_header_check_were_bypassed(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 10**12)  # the hub's own header check lets anything through
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow warns above 1000, refuses above 2000

    assert inspect_image(io.BytesIO(encode(Image.new("RGB", (30, 30)), "PNG"))).width == 30
    warned = rejection(inspect_image, encode(Image.new("RGB", (40, 40)), "PNG"))  # 1600: a warning
    refused = rejection(make_thumbnail, encode(Image.new("RGB", (50, 50)), "PNG"))  # 2500: an error

    assert "megapixels" in warned and "megapixels" in refused


def test_pillow_is_configured_for_the_hub_limit_and_never_pads_truncated_files():
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= images.MAX_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
@pytest.mark.parametrize("func", [inspect_image, make_thumbnail])
def test_a_truncated_image_is_refused_with_a_message_to_upload_it_again(fmt, func):
    whole = encode(Image.effect_noise((128, 128), 60).convert("RGB"), fmt)
    assert rejection(func, whole[: len(whole) // 2]) == "The image file is truncated; upload it again."


def test_a_jpeg_missing_only_its_last_bytes_is_refused_as_truncated():
    whole = encode(Image.effect_noise((128, 128), 60).convert("RGB"), "JPEG")
    assert rejection(inspect_image, whole[:-200]) == "The image file is truncated; upload it again."


@pytest.mark.parametrize(
    "upload",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"masterpiece, 1girl\nSteps: 20, Sampler: Euler a\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        encode(Image.new("RGB", (8, 8)), "BMP"),
        encode(Image.new("RGB", (8, 8)), "TIFF"),
        b"",
    ],
    ids=["svg-script", "svg", "text", "pdf", "bmp", "tiff", "empty"],
)
@pytest.mark.parametrize("func", [inspect_image, make_thumbnail])
def test_svg_text_pdf_and_other_formats_are_refused_as_not_an_allowed_image(upload, func):
    assert rejection(func, upload) == "This file is not a PNG, JPEG, WebP or GIF image."


def test_a_png_missing_its_end_is_refused_as_truncated():
    png = encode(Image.new("RGB", (8, 8), GREEN), "PNG")
    assert rejection(inspect_image, png[:-12]) == "The image file is truncated; upload it again."


def test_a_png_corrupted_after_its_image_data_is_refused_as_damaged():
    png = png_with(after_idat=[png_chunk(b"tEXt", b"parameters\0x", crc=0)])
    assert rejection(inspect_image, png) == images.DAMAGED


def test_a_png_with_a_corrupted_chunk_is_refused_as_damaged():
    png = png_with(before_idat=[png_chunk(b"tEXt", b"parameters\0x", crc=0)])
    assert rejection(inspect_image, png) == images.DAMAGED


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(monkeypatch):
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 4 * 1024 * 1024)
    upload = encode(Image.new("RGB", (8, 8)), "PNG") + b"\0" * (5 * 1024 * 1024)
    message = rejection(inspect_image, upload)
    assert message == "The file is 5.0 MiB; the limit for images is 4 MiB."


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_oversized_exif_block_is_neither_parsed_nor_copied_and_the_image_is_still_accepted(fmt):
    exif = exif_bytes(Orientation=6, ImageDescription="x" * (MAX_EXIF_BYTES + 1000), Make="SecretCam")
    assert len(exif) > MAX_EXIF_BYTES
    upload = encode(two_colour((60, 30)), fmt, exif=exif)

    info = inspect_image(io.BytesIO(upload))
    data = make_thumbnail(io.BytesIO(upload))

    assert (info.width, info.height) == (60, 30)  # its orientation was not read
    thumb = open_thumbnail(data)
    assert thumb.size == (60, 30)
    assert b"SecretCam" not in data and b"EXIF" not in webp_chunk_types(data)
    assert len(thumb.getexif()) == 0


# Embedded generation text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("zip_", [False, True], ids=["tEXt", "zTXt"])
def test_a1111_parameters_round_trip_through_a_png_text_chunk(zip_):
    text = PngImagePlugin.PngInfo()
    text.add_text("parameters", INFOTEXT, zip=zip_)
    upload = encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=text)
    assert (b"zTXt" if zip_ else b"tEXt") in upload
    assert image_text_chunks(io.BytesIO(upload)) == {"parameters": INFOTEXT}


@pytest.mark.parametrize("zip_", [False, True], ids=["iTXt", "iTXt-compressed"])
def test_non_latin_parameters_round_trip_through_an_itxt_chunk(zip_):
    prompt = "桜の木の下の少女, ✨ masterpiece\nSteps: 20, Sampler: Euler a, CFG scale: 7"
    text = PngImagePlugin.PngInfo()
    text.add_text("parameters", prompt, zip=zip_)
    upload = encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=text)
    assert b"iTXt" in upload
    assert image_text_chunks(io.BytesIO(upload)) == {"parameters": prompt}


def test_comfyui_prompt_and_workflow_are_both_returned():
    prompt = '{"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}'
    workflow = '{"nodes": [{"id": 3, "type": "KSampler", "title": "Échantillonneur ✨"}], "links": []}'
    text = PngImagePlugin.PngInfo()
    text.add_text("prompt", prompt)
    text.add_text("workflow", workflow)
    upload = encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=text)
    assert image_text_chunks(io.BytesIO(upload)) == {"prompt": prompt, "workflow": workflow}


def test_text_written_after_the_image_data_is_found():
    png = png_with(after_idat=[png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode("latin-1"))])
    assert png.index(b"IDAT") < png.index(b"parameters")
    assert image_text_chunks(io.BytesIO(png)) == {"parameters": INFOTEXT}


def ztxt(keyword: bytes, compressed: bytes) -> bytes:
    return png_chunk(b"zTXt", keyword + b"\0\0" + compressed)


def itxt(keyword: bytes, compressed: bytes) -> bytes:
    return png_chunk(b"iTXt", keyword + b"\0\1\0en\0\0" + compressed)


@pytest.mark.parametrize("bomb_chunk", [ztxt, itxt])
@pytest.mark.parametrize("where", ["before_idat", "after_idat"])
def test_a_text_bomb_is_skipped_by_the_text_reader_without_inflating_it(zlib_bomb, bomb_chunk, where):
    good = png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode())
    png = png_with(**{where: [bomb_chunk(b"bomb", zlib_bomb), good]})
    assert len(png) < 30_000

    tracemalloc.start()
    try:
        texts = image_text_chunks(io.BytesIO(png))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert texts == {"parameters": INFOTEXT}
    assert peak < 4 * 1024 * 1024  # the 20 MB it claims was never produced


def test_text_past_the_total_cap_is_not_read_so_many_small_bombs_cost_little():
    before = png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode())
    bombs = [ztxt(b"bomb%d" % i, zlib.compress(bytes(2 * 1024 * 1024), 9)) for i in range(200)]
    after = png_chunk(b"tEXt", b"late\0written after 200 MiB of claimed text")
    png = png_with(before_idat=[before], after_idat=[*bombs, after])

    tracemalloc.start()
    try:
        texts = image_text_chunks(io.BytesIO(png))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert texts == {"parameters": INFOTEXT}  # "late" lies past the 8 MiB budget
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("where", ["before_idat", "after_idat"])
def test_an_image_carrying_a_text_bomb_is_refused_with_a_message_about_its_metadata(zlib_bomb, where):
    png = png_with(**{where: [ztxt(b"parameters", zlib_bomb)]})
    assert rejection(inspect_image, png) == images.TEXT_TOO_LARGE
    assert "metadata" in images.TEXT_TOO_LARGE


def test_malformed_text_chunks_are_skipped_and_the_good_ones_kept():
    good = png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode())
    broken = [
        png_chunk(b"tEXt", b"badcrc\0value", crc=1),
        png_chunk(b"tEXt", b"no separator at all"),
        png_chunk(b"tEXt", b"\0empty keyword"),
        png_chunk(b"tEXt", b"k" * 80 + b"\0keyword too long"),
        png_chunk(b"zTXt", b"method\0\x07" + zlib.compress(b"x")),
        png_chunk(b"zTXt", b"notzlib\0\0this is not a zlib stream"),
        png_chunk(b"zTXt", b"cut\0\0" + zlib.compress(b"hello world" * 100)[:20]),
        png_chunk(b"iTXt", b"flags\0\x05\0\0\0text"),
        png_chunk(b"iTXt", b"short\0\1"),
        png_chunk(b"iTXt", b"badutf8\0\0\0\0\0caf\xe9"),
    ]
    png = png_with(before_idat=broken[:5], after_idat=[*broken[5:], good])

    texts = image_text_chunks(io.BytesIO(png))

    assert texts == {"parameters": INFOTEXT, "badutf8": "caf\ufffd"}


@pytest.mark.parametrize(
    "tail",
    [
        struct.pack(">I", 1024 * 1024) + b"tEXt" + b"parameters\0cut short",  # ends inside a chunk
        struct.pack(">I", 0xFFFFFFFF) + b"tEXt" + b"parameters\0lies",  # a length no chunk can have
        b"\0\0",  # ends inside a chunk header
    ],
    ids=["cut-inside-chunk", "absurd-length", "cut-inside-header"],
)
def test_a_png_that_ends_mid_chunk_gives_the_text_read_so_far(tail):
    good = png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode())
    png = png_with(before_idat=[good])[:-12] + tail  # IEND replaced by the broken tail
    assert image_text_chunks(io.BytesIO(png)) == {"parameters": INFOTEXT}


def test_text_after_iend_is_ignored():
    late = png_chunk(b"tEXt", b"parameters\0after the end")
    assert image_text_chunks(io.BytesIO(png_with() + late)) == {}


@pytest.mark.parametrize(
    "upload",
    [
        encode(Image.new("RGB", (8, 8)), "JPEG", exif=exif_bytes(Make="x")),
        encode(Image.new("RGB", (8, 8)), "WEBP"),
        b"tEXt parameters",
        b"",
    ],
    ids=["jpeg", "webp", "text", "empty"],
)
def test_files_other_than_png_have_no_png_text(upload):
    assert image_text_chunks(io.BytesIO(upload)) == {}
