"""Generation metadata from real image files (docs/image-metadata.md): PNG text chunks, EXIF UserComment
in JPEG and WebP in both byte orders, GIF comments, NovelAI, ComfyUI, the hash forms of the infotext,
and hostile files that must give what can be read and never raise."""

import io
import json
import random
import struct
import time
import tracemalloc
import zlib

import pytest
from PIL import Image, PngImagePlugin

from models_app.files import carriers, genmeta
from models_app.files.genmeta import read_generation_metadata, workflow_json

INFOTEXT = (
    "masterpiece, 1girl, <lora:detail:0.8>, <lyco:Soft Light:0.5:0.3>, <lora:nohash>\n"
    "Negative prompt: lowres, bad hands, easyneg\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 123, Size: 512x768, "
    "Model hash: 5ebd52f5d2, Model: tiny, VAE hash: 735e4c3a44, VAE: kl-f8.safetensors, Clip skip: 2, "
    'Lora hashes: "detail: ad73b9acd6e4, Soft Light: 0123456789ab", TI hashes: "easyneg: ba98765432fe", '
    "Version: v1.10.1"
)


# Building files ---------------------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def png_text(**texts) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        zip_ = key.startswith("z_")
        info.add_text(key.removeprefix("z_"), value, zip=zip_)
    return encode(Image.new("RGB", (8, 8), (0, 128, 0)), "PNG", pnginfo=info)


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with(before_idat=(), after_idat=()) -> bytes:
    png = encode(Image.new("RGB", (8, 8), (0, 128, 0)), "PNG")
    return png[:33] + b"".join(before_idat) + png[33:-12] + b"".join(after_idat) + png[-12:]


def tiff(
    order: str, ifd0: dict[int, tuple[int, bytes]], exif: dict[int, tuple[int, bytes]] | None = None
) -> bytes:
    """A TIFF block by hand: `order` "<" (II) or ">" (MM); entries {tag: (type, value bytes)}; the Exif
    IFD, when given, is linked from IFD0 by tag 0x8769. Values longer than 4 bytes go after the IFDs."""
    header = (b"II*\0" if order == "<" else b"MM\0*") + struct.pack(order + "I", 8)
    entries0 = dict(ifd0)
    if exif is not None:
        entries0[0x8769] = (4, b"")  # offset filled below
    ifd0_size = 2 + 12 * len(entries0) + 4
    exif_offset = 8 + ifd0_size
    exif_size = 2 + 12 * len(exif) + 4 if exif is not None else 0
    data_offset = exif_offset + exif_size
    data = bytearray()

    def ifd(entries: dict, next_offset: int = 0) -> bytes:
        nonlocal data
        out = struct.pack(order + "H", len(entries))
        for tag in sorted(entries):
            kind, value = entries[tag]
            if tag == 0x8769:
                out += struct.pack(order + "HHII", tag, 4, 1, exif_offset)
                continue
            if len(value) <= 4:
                out += struct.pack(order + "HHI", tag, kind, len(value)) + value.ljust(4, b"\0")
            else:
                out += struct.pack(order + "HHII", tag, kind, len(value), data_offset + len(data))
                data += value
        return out + struct.pack(order + "I", next_offset)

    block = header + ifd(entries0)
    if exif is not None:
        block += ifd(exif)
    return block + bytes(data)


def user_comment(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be":
        return b"UNICODE\0" + text.encode("utf-16-be")
    if encoding == "utf-16-le":
        return b"UNICODE\0" + text.encode("utf-16-le")
    if encoding == "ascii":
        return b"ASCII\0\0\0" + text.encode("ascii")
    return b"\0" * 8 + text.encode("utf-8")


def jpeg_with_exif(block: bytes) -> bytes:
    return encode(Image.new("RGB", (8, 8), (200, 10, 10)), "JPEG", exif=b"Exif\0\0" + block)


def webp_with_exif(block: bytes) -> bytes:
    return encode(Image.new("RGB", (8, 8), (10, 10, 200)), "WEBP", exif=b"Exif\0\0" + block)


# A1111 / Forge in PNG ----------------------------------------------------------------------------------------


def check_a1111(result):
    assert result.source == "a1111"
    meta = result.meta
    assert meta["prompt"].startswith("masterpiece, 1girl")
    assert meta["negativePrompt"] == "lowres, bad hands, easyneg"
    assert (meta["steps"], meta["sampler"], meta["cfgScale"], meta["seed"], meta["clipSkip"]) == (
        20,
        "Euler a",
        7.0,
        123,
        2,
    )
    assert meta["Size"] == "512x768" and meta["Model"] == "tiny" and meta["Model hash"] == "5ebd52f5d2"
    assert meta["hashes"] == {
        "model": "5ebd52f5d2",
        "vae": "735e4c3a44",
        "lora:detail": "ad73b9acd6e4",
        "lora:Soft Light": "0123456789ab",
        "embed:easyneg": "ba98765432fe",
    }
    assert result.resources == [
        {"kind": "checkpoint", "name": "tiny", "hash": "5ebd52f5d2", "weight": None},
        {"kind": "vae", "name": "kl-f8.safetensors", "hash": "735e4c3a44", "weight": None},
        {"kind": "lora", "name": "detail", "hash": "ad73b9acd6e4", "weight": 0.8},
        {"kind": "lora", "name": "Soft Light", "hash": "0123456789ab", "weight": 0.5},
        {"kind": "lora", "name": "nohash", "hash": None, "weight": 1.0},
        {"kind": "embedding", "name": "easyneg", "hash": "ba98765432fe", "weight": None},
    ]
    assert meta["resources"][0] == {"type": "model", "name": "tiny", "hash": "5ebd52f5d2"}
    assert {"type": "lora", "name": "detail", "weight": 0.8, "hash": "ad73b9acd6e4"} in meta["resources"]


@pytest.mark.parametrize("key", ["parameters", "z_parameters"], ids=["tEXt", "zTXt"])
def test_a1111_png_gives_civitai_meta_hashes_and_resources(key):
    png = png_text(**{key: INFOTEXT})
    assert (b"zTXt" if key.startswith("z_") else b"tEXt") in png
    check_a1111(read_generation_metadata(io.BytesIO(png)))


def test_non_latin_infotext_in_itxt_after_the_image_data():
    text = '桜の木の下, <lora:детали:0.7>\nSteps: 30, Sampler: DPM++ 2M, Seed: 9, Lora hashes: "детали: ad73b9acd6e4"'
    itxt = png_chunk(b"iTXt", b"parameters\0\0\0\0\0" + text.encode())
    png = png_with(after_idat=[itxt])
    assert png.index(b"IDAT") < png.index(b"iTXt")
    result = read_generation_metadata(io.BytesIO(png))
    assert result.meta["prompt"] == "桜の木の下, <lora:детали:0.7>"
    assert result.resources == [{"kind": "lora", "name": "детали", "hash": "ad73b9acd6e4", "weight": 0.7}]


def test_unquoted_hashes_json_is_read_whole():
    text = (
        "a cat\nSteps: 20, Sampler: Euler, Seed: 1, Model: tiny, "
        'Hashes: {"model": "5ebd52f5d2", "vae": "735e4c3a44", "lora:detail": "AD73B9ACD6E4", '
        '"embed:easyneg": "' + "ab" * 32 + '"}, Version: f1'
    )
    result = read_generation_metadata(io.BytesIO(png_text(parameters=text)))
    assert result.meta["Version"] == "f1" and "lora" not in result.meta  # no bogus key from the JSON
    assert result.meta["hashes"] == {
        "model": "5ebd52f5d2",
        "vae": "735e4c3a44",
        "lora:detail": "AD73B9ACD6E4",
        "embed:easyneg": "ab" * 32,
    }
    assert [(r["kind"], r["name"], r["hash"]) for r in result.resources] == [
        ("checkpoint", "tiny", "5ebd52f5d2"),
        ("vae", None, "735e4c3a44"),
        ("lora", "detail", "AD73B9ACD6E4"),
        ("embedding", "easyneg", "ab" * 32),
    ]


@pytest.mark.parametrize(
    "hashes",
    [
        'Hashes: {"model": "5ebd52f5d2", "lora:x": ',
        "Hashes: {not json}",
        'Hashes: ["model"]',
        "Hashes: {" * 5000,
    ],
    ids=["unbalanced", "not-json", "a-list", "deep"],
)
def test_bad_hashes_json_keeps_the_rest_of_the_meta(hashes):
    text = f"a cat\nSteps: 20, Sampler: Euler, Seed: 1, Model hash: 5ebd52f5d2, {hashes}"
    result = read_generation_metadata(io.BytesIO(png_text(parameters=text)))
    assert result.meta["prompt"] == "a cat" and result.meta["steps"] == 20
    assert result.meta["hashes"] == {"model": "5ebd52f5d2"}


def test_nul_and_lone_surrogates_never_reach_the_meta():
    text = 'a\\u0000cat\nSteps: 20, Sampler: "Eu\\u0000ler \\ud800", Seed: 1'
    result = read_generation_metadata(io.BytesIO(png_text(parameters=text)))
    assert "\0" not in json.dumps(result.meta, ensure_ascii=False)
    json.dumps(result.meta, ensure_ascii=False).encode("utf-8")  # encodable: no lone surrogate
    assert result.meta["sampler"].startswith("Euler")


# EXIF UserComment in JPEG and WebP --------------------------------------------------------------------------


@pytest.mark.parametrize("container", [jpeg_with_exif, webp_with_exif], ids=["jpeg", "webp"])
@pytest.mark.parametrize("order", ["<", ">"], ids=["II", "MM"])
@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le", "ascii", "undefined"])
def test_user_comment_in_either_byte_order_and_encoding(container, order, encoding):
    text = INFOTEXT if encoding != "ascii" else INFOTEXT.encode("ascii", "ignore").decode()
    if encoding.startswith("utf-16"):
        text = text.replace("1girl", "1girl ✨")
    upload = container(tiff(order, {0x0131: (2, b"A1111\0")}, {0x9286: (7, user_comment(text, encoding))}))
    result = read_generation_metadata(io.BytesIO(upload))
    check_a1111(result)
    assert result.texts["Software"] == "A1111"
    if encoding.startswith("utf-16"):
        assert "✨" in result.meta["prompt"]


def test_pillow_written_exif_user_comment_is_read():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + INFOTEXT.encode("utf-16-be")  # as A1111 via piexif
    upload = encode(Image.new("RGB", (8, 8)), "JPEG", exif=exif)
    check_a1111(read_generation_metadata(io.BytesIO(upload)))


def test_comfyui_webp_workflow_prefix_in_exif():
    workflow = {"nodes": [{"id": 1, "type": "KSampler"}], "links": []}
    prompt = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15/tiny.safetensors"}}}
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(prompt)  # as ComfyUI's SaveAnimatedWEBP writes them
    exif[0x010F] = "workflow:" + json.dumps(workflow)
    upload = encode(Image.new("RGB", (8, 8)), "WEBP", exif=exif)
    result = read_generation_metadata(io.BytesIO(upload))
    assert result.source == "comfyui"
    assert json.loads(result.workflow) == workflow and json.loads(result.prompt_graph) == prompt
    assert result.resources == [
        {"kind": "checkpoint", "name": "sd15/tiny.safetensors", "hash": None, "weight": None}
    ]


# GIF, NovelAI, ComfyUI PNG ---------------------------------------------------------------------------------


def test_gif_comment_extension():
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=INFOTEXT.encode())
    check_a1111(read_generation_metadata(io.BytesIO(upload)))


def test_novelai_png_maps_to_civitai_keys():
    comment = {
        "steps": 28,
        "sampler": "k_euler_ancestral",
        "scale": 11.0,
        "seed": 42,
        "uc": "lowres",
        "strength": 0.7,
    }
    png = png_text(Software="NovelAI", Description="1girl, {{masterpiece}}", Comment=json.dumps(comment))
    result = read_generation_metadata(io.BytesIO(png))
    assert result.source == "novelai"
    assert result.meta == {
        "prompt": "1girl, {{masterpiece}}",
        "negativePrompt": "lowres",
        "steps": 28,
        "sampler": "k_euler_ancestral",
        "cfgScale": 11.0,
        "seed": 42,
        "strength": 0.7,
        "Model": "NovelAI",
    }


def comfy_prompt():
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "10": {
            "class_type": "LoraLoader",
            "inputs": {"lora_name": "detail.safetensors", "strength_model": 0.8, "model": ["4", 0]},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a <b>cat</b>", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 5,
                "steps": 25,
                "cfg": 6.5,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1,
                "positive": ["6", 0],
                "negative": ["7", 0],
            },
        },
    }


def test_comfyui_png_prompt_graph_gives_settings_and_loaders():
    workflow = json.dumps({"nodes": [], "links": [], "title": "Échantillonneur ✨"})
    png = png_text(prompt=json.dumps(comfy_prompt()), workflow=workflow)
    result = read_generation_metadata(io.BytesIO(png))
    assert result.source == "comfyui" and result.workflow == workflow
    assert workflow_json(result)["title"] == "Échantillonneur ✨"
    meta = result.meta
    assert (meta["prompt"], meta["negativePrompt"], meta["seed"], meta["steps"], meta["cfgScale"]) == (
        "a <b>cat</b>",
        "blurry",
        5,
        25,
        6.5,
    )
    assert meta["sampler"] == "euler" and meta["Model"] == "tiny.safetensors"
    assert result.resources == [
        {"kind": "checkpoint", "name": "tiny.safetensors", "hash": None, "weight": None},
        {"kind": "lora", "name": "detail.safetensors", "hash": None, "weight": 0.8},
    ]


@pytest.mark.parametrize(
    "workflow",
    ["this is not json {", '{"nodes": [NaN]}', "[" * 100_000, '{"a": 1}' + "\0" * 3],
    ids=["text", "nan", "deep", "nul"],
)
def test_a_workflow_chunk_that_is_not_json_is_kept_as_text(workflow):
    png = png_text(workflow=workflow)
    result = read_generation_metadata(io.BytesIO(png))
    assert result.source == "comfyui"
    assert result.workflow == workflow.replace("\0", "")
    assert workflow_json(result) is None or workflow.startswith('{"a"')
    assert result.meta is None


def test_an_image_without_metadata_says_nothing():
    for upload in (
        png_text(),
        encode(Image.new("RGB", (8, 8)), "JPEG"),
        encode(Image.new("RGB", (8, 8)), "WEBP"),
    ):
        result = read_generation_metadata(io.BytesIO(upload))
        assert (result.meta, result.resources, result.workflow, result.source) == (None, [], None, None)


# Hostile files ---------------------------------------------------------------------------------------------


GOOD = png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode())


def zlib_bomb(megabytes: int = 200) -> bytes:
    """`megabytes` MB of zeros in a few hundred KB, compressed a megabyte at a time."""
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


@pytest.mark.parametrize(
    "png",
    [
        png_with([GOOD])[:-12] + struct.pack(">I", 50 * 1024 * 1024) + b"tEXt" + b"comment\0short",
        png_with([GOOD])[:-12] + struct.pack(">I", 0xFFFFFFF0) + b"zTXt",
        png_with([GOOD])[: png_with([GOOD]).index(b"IDAT") + 10],
        png_with([png_chunk(b"tEXt", b"parameters\0" + b"evil", crc=0xDEADBEEF), GOOD]),
        png_with([png_chunk(b"zTXt", b"parameters\0\0" + zlib_bomb())], [GOOD]),
    ],
    ids=["length-past-eof", "absurd-length", "truncated-idat", "bad-crc-then-good", "ztxt-bomb-then-good"],
)
def test_hostile_pngs_give_the_text_that_can_be_read(png):
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = read_generation_metadata(io.BytesIO(png))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_a1111(result)
    assert peak < 8 * 1024 * 1024 and elapsed < 2


def test_bad_crc_alone_gives_no_meta():
    png = png_with([png_chunk(b"tEXt", b"parameters\0" + INFOTEXT.encode(), crc=1)])
    assert read_generation_metadata(io.BytesIO(png)).meta is None


def hostile_tiffs():
    comment = user_comment(INFOTEXT, "utf-16-be")
    good = tiff(">", {}, {0x9286: (7, comment)})
    loop = bytearray(good)
    # IFD0's "next IFD" points back at IFD0, and the Exif IFD's at itself.
    loop[8 + 2 + 12 : 8 + 2 + 12 + 4] = struct.pack(">I", 8)
    yield "loop", bytes(loop), True
    yield "entries-65535", b"MM\0*" + struct.pack(">IH", 8, 0xFFFF) + b"\0" * 60, False
    outside = (
        b"MM\0*" + struct.pack(">IH", 8, 1) + struct.pack(">HHII", 0x9286, 7, 10_000, 0xFFFFFF00) + b"\0" * 4
    )
    yield "offset-outside", outside, False
    yield "ifd-outside", b"II*\0" + struct.pack("<I", 0xFFFFFFF0), False
    yield "truncated", good[:30], False
    yield "not-tiff", b"XX*\0" + b"\0" * 40, False
    chain = bytearray(b"II*\0" + struct.pack("<I", 8))
    for i in range(100):  # 100 empty IFDs chained: only MAX_TIFF_IFDS are visited
        chain += struct.pack("<HI", 0, len(chain) + 6 if i < 99 else 0)
    yield "long-chain", bytes(chain), False


@pytest.mark.parametrize("container", [jpeg_with_exif, webp_with_exif], ids=["jpeg", "webp"])
@pytest.mark.parametrize(
    ("name", "block", "readable"), list(hostile_tiffs()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_hostile_exif_blocks_end_quickly_without_raising(container, name, block, readable):
    started = time.monotonic()
    result = read_generation_metadata(io.BytesIO(container(block)))
    assert time.monotonic() - started < 1
    if readable:
        check_a1111(result)
    else:
        assert result.meta is None


def test_webp_exif_chunk_larger_than_its_cap_is_not_read():
    huge = tiff("<", {}, {0x9286: (7, user_comment("x" * (2 * 1024 * 1024), "undefined"))})
    upload = webp_with_exif(huge)
    tracemalloc.start()
    try:
        result = read_generation_metadata(io.BytesIO(upload))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.meta is None and peak < 1024 * 1024


def test_gif_with_absurd_blocks_ends():
    gif = b"GIF89a" + struct.pack("<HHBBB", 8, 8, 0, 0, 0) + b"!\xfe" + b"\x01x" * 2_000_000  # no terminator
    started = time.monotonic()
    assert carriers.gif_comments(io.BytesIO(gif)) is None
    assert time.monotonic() - started < 5


def test_no_cut_or_flipped_byte_of_any_carrier_raises():
    samples = [
        png_text(parameters=INFOTEXT),
        png_text(z_parameters=INFOTEXT, prompt=json.dumps(comfy_prompt()), workflow="{}"),
        jpeg_with_exif(tiff(">", {}, {0x9286: (7, user_comment(INFOTEXT, "utf-16-be"))})),
        webp_with_exif(
            tiff("<", {0x010F: (2, b"workflow:{}\0")}, {0x9286: (7, user_comment(INFOTEXT, "utf-16-le"))})
        ),
        encode(Image.new("P", (8, 8)), "GIF", comment=INFOTEXT.encode()),
    ]
    rng = random.Random(13)
    for sample in samples:
        for cut in range(0, len(sample), max(1, len(sample) // 60)):
            genmeta._read(io.BytesIO(sample[:cut]))  # the readers themselves, not the safety net
        for _ in range(150):
            data = bytearray(sample)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            genmeta._read(io.BytesIO(bytes(data)))  # must not raise


def test_civitai_resources_give_version_id_hints():
    text = (
        "a cat\nSteps: 20, Sampler: Euler, Seed: 1, "
        'Civitai resources: [{"type": "checkpoint", "modelVersionId": 12, "modelName": "Tiny"}, '
        '{"type": "lora", "weight": 0.6, "modelVersionId": 34}, {"type": "lora", "modelVersionId": "x"}]'
    )
    result = read_generation_metadata(io.BytesIO(png_text(parameters=text)))
    assert result.resources == [
        {"kind": "checkpoint", "name": "Tiny", "hash": None, "weight": None, "civitai_version_id": 12},
        {"kind": "lora", "name": None, "hash": None, "weight": 0.6, "civitai_version_id": 34},
    ]
    assert [r["modelVersionId"] for r in result.meta["civitaiResources"]] == [12, 34]
    assert "resources" not in result.meta  # CivitAI keeps these in civitaiResources only


def test_camera_make_and_model_are_not_returned_but_the_settings_are():
    block = tiff(
        "<",
        {0x010F: (2, b"SecretCam\0"), 0x0110: (2, b"X-100 serial 1234\0")},
        {0x9286: (7, b"UNICODE\0" + b"\xff\xfe" + INFOTEXT.encode("utf-16-le"))},  # with a byte-order mark
    )
    result = read_generation_metadata(io.BytesIO(jpeg_with_exif(block)))
    check_a1111(result)
    assert "SecretCam" not in json.dumps(result.texts) and "serial" not in json.dumps(result.texts)


def test_endless_jpeg_fill_bytes_end_the_walk():
    upload = b"\xff\xd8" + b"\xff" * 5_000_000
    started = time.monotonic()
    assert carriers.exif_texts(io.BytesIO(upload)) == {}
    assert time.monotonic() - started < 1
