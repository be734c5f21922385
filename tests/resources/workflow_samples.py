"""Real ComfyUI workflow JSON, crafted as ComfyUI saves it, for the workflow tests and the benchmark."""

import io
import json

from PIL import Image
from PIL.PngImagePlugin import PngInfo


def ui_04(*, title: str = "Load Checkpoint") -> dict:
    """A text-to-image graph in UI format 0.4: loader, two prompts (one with an embedding), sampler,
    decode, save, a LoRA that is bypassed, a custom node from a pack, a group and a dangling link."""
    return {
        "last_node_id": 11,
        "last_link_id": 12,
        "nodes": [
            {"id": 4, "type": "CheckpointLoaderSimple", "pos": [26, 474], "size": [315, 98], "flags": {},
             "order": 0, "mode": 0, "title": title,
             "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1], "slot_index": 0},
                         {"name": "CLIP", "type": "CLIP", "links": [3, 5], "slot_index": 1},
                         {"name": "VAE", "type": "VAE", "links": [8], "slot_index": 2}],
             "properties": {"Node name for S&R": "CheckpointLoaderSimple", "cnr_id": "comfy-core", "ver": "0.3.40",
                            "models": [{"name": "sd_xl_base_1.0.safetensors", "url": "https://example.invalid/x",
                                        "directory": "checkpoints"}]},
             "widgets_values": ["SDXL\\sd_xl_base_1.0.safetensors"]},
            {"id": 6, "type": "CLIPTextEncode", "pos": {"0": 415, "1": 186}, "size": {"0": 422, "1": 164},
             "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 3}],
             "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [4]}],
             "properties": {}, "widgets_values": ["a watercolor fox, embedding:easynegative.pt, soft light"]},
            {"id": 7, "type": "CLIPTextEncode", "pos": [413, 389], "size": [425, 180], "mode": 0,
             "flags": {"collapsed": True},
             "inputs": [{"name": "clip", "type": "CLIP", "link": 5}],
             "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [6]}],
             "properties": {}, "widgets_values": ["blurry"]},
            {"id": 3, "type": "KSampler", "pos": [863, 186], "size": [315, 262], "mode": 0,
             "color": "#322", "bgcolor": "#533",
             "inputs": [{"name": "model", "type": "MODEL", "link": 1},
                        {"name": "positive", "type": "CONDITIONING", "link": 4},
                        {"name": "negative", "type": "CONDITIONING", "link": 6},
                        {"name": "latent_image", "type": "LATENT", "link": 2}],
             "outputs": [{"name": "LATENT", "type": "LATENT", "links": [7]}],
             "properties": {}, "widgets_values": [156680208700286, "randomize", 20, 8, "euler", "normal", 1]},
            {"id": 5, "type": "EmptyLatentImage", "pos": [473, 609], "size": [315, 106], "mode": 0,
             "outputs": [{"name": "LATENT", "type": "LATENT", "links": [2]}],
             "properties": {}, "widgets_values": [1024, 1024, 1]},
            {"id": 8, "type": "VAEDecode", "pos": [1209, 188], "size": [210, 46], "mode": 0,
             "inputs": [{"name": "samples", "type": "LATENT", "link": 7}, {"name": "vae", "type": "VAE", "link": 8}],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [9]}], "properties": {}},
            {"id": 9, "type": "SaveImage", "pos": [1451, 189], "size": [210, 270], "mode": 0,
             "inputs": [{"name": "images", "type": "IMAGE", "link": 9}], "properties": {},
             "widgets_values": ["ComfyUI"]},
            {"id": 10, "type": "LoraLoader", "pos": [26, 700], "size": [315, 126], "mode": 4,
             "properties": {}, "widgets_values": ["bypassed_lora.safetensors", 1, 1]},
            {"id": 11, "type": "UltimateSDUpscale", "pos": [1451, 500], "size": [315, 300], "mode": 0,
             "properties": {"cnr_id": "comfyui_ultimatesdupscale", "ver": "1.1.0"},
             "widgets_values": [2, 42, "fixed", 20, 8, "euler", "normal", 0.2, "4x-UltraSharp.pth"]},
        ],
        "links": [
            [1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
            [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"],
            [7, 3, 0, 8, 0, "LATENT"], [8, 4, 2, 8, 1, "VAE"], [9, 8, 0, 9, 0, "IMAGE"],
            [12, 99, 0, 9, 0, "IMAGE"],  # dangling: node 99 does not exist
        ],
        "groups": [{"id": 1, "title": "Prompts", "bounding": [400, 100, 460, 500], "color": "#3f789e"}],
        "config": {},
        "extra": {"ds": {"scale": 1, "offset": [0, 0]}},
        "models": [{"name": "4x-UltraSharp.pth", "url": "https://example.invalid/u", "directory": "upscale_models"}],
        "version": 0.4,
    }  # fmt: skip


def ui_1() -> dict:
    """Schema 1: object links, `state`, string slots, a LoRA and a custom pack by aux_id."""
    return {
        "id": "9f2d0c1e-0000-4000-8000-000000000001",
        "revision": 0,
        "version": 1,
        "state": {"lastNodeId": 3, "lastLinkId": 2, "lastGroupid": 0, "lastRerouteId": 0},
        "nodes": [
            {"id": 1, "type": "UNETLoader", "pos": [0, 0], "size": [300, 80], "mode": 0,
             "widgets_values": ["flux1-dev.safetensors", "default"], "properties": {}},
            {"id": 2, "type": "LoraLoaderModelOnly", "pos": [350, 0], "size": [300, 80], "mode": 0,
             "widgets_values": ["flux/detail_tweaker.safetensors", 0.8], "properties": {}},
            {"id": 3, "type": "MyFancyNode", "pos": [700, 0], "size": [300, 80], "mode": 0,
             "widgets_values": {"ckpt_name": "other.ckpt", "steps": 4},
             "properties": {"aux_id": "someone/comfyui-fancy"}},
        ],
        "links": [
            {"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": "0", "type": "MODEL"},
            {"id": 2, "origin_id": 2, "origin_slot": "0", "target_id": 3, "target_slot": 0, "type": "MODEL"},
        ],
        "reroutes": [],
        "groups": [],
        "extra": {},
    }  # fmt: skip


def api_format() -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"},
              "_meta": {"title": "Load Checkpoint"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "embedding:bad_hands", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
              "latent_image": ["5", 0], "seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
        "10": {"class_type": "IPAdapterModelLoader", "inputs": {"ipadapter_file": "ip-adapter_sdxl.safetensors"}},
    }  # fmt: skip


def big_ui(n: int) -> dict:
    """A chain of n KSampler-like nodes, as a stress case and for the benchmark."""
    nodes = [
        {"id": i, "type": "KSampler" if i % 2 else "LoraLoader", "pos": [i % 100 * 350, i // 100 * 300],
         "size": [315, 262], "mode": 0, "properties": {"Node name for S&R": "KSampler"},
         "widgets_values": [i, "fixed", 20, 8, "euler", "normal", 1] if i % 2 else [f"lora_{i}.safetensors", 1, 1],
         "inputs": [{"name": "model", "type": "MODEL", "link": i - 1 if i > 1 else None}],
         "outputs": [{"name": "MODEL", "type": "MODEL", "links": [i]}]}
        for i in range(1, n + 1)
    ]  # fmt: skip
    links = [[i, i, 0, i + 1, 0, "MODEL"] for i in range(1, n)]
    return {
        "last_node_id": n,
        "last_link_id": n,
        "nodes": nodes,
        "links": links,
        "groups": [],
        "version": 0.4,
    }


def png_with(chunks: dict[str, str]) -> bytes:
    """A small real PNG with these text chunks (iTXt when not Latin-1, as Pillow writes them)."""
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def dumps(workflow) -> bytes:
    return json.dumps(workflow).encode()


def webp_with(tags: dict[int, str]) -> bytes:
    """A small real WebP with EXIF tags, as ComfyUI's SaveAnimatedWEBP writes its workflow."""
    image = Image.new("RGB", (32, 24), (200, 90, 40))
    exif = image.getexif()
    for tag, value in tags.items():
        exif[tag] = value
    out = io.BytesIO()
    image.save(out, format="WEBP", exif=exif.tobytes())
    return out.getvalue()
