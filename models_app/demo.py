"""Small but real safetensors files (and example images) for demo content and tests.

They have the tensor names and metadata of the families they imitate (kohya LoRA, SD 1.5 checkpoint,
VAE), so the processing pipeline has real work to do without shipping gigabytes.
"""

import io
import json
import struct


def make_safetensors(tensors, metadata=None) -> bytes:
    """tensors: [(name, dtype, shape, raw_bytes)] in buffer order. Deterministic (docs/hashes.md#test-vectors)."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(t[3] for t in tensors)


def _f16(shape, seed: int):
    count = 1
    for dim in shape:
        count *= dim
    # A deterministic, non-constant pattern so every file hashes differently.
    return bytes(((i * 31 + seed) % 251) for i in range(count * 2))


def _tensors(spec, seed):
    return [(name, "F16", shape, _f16(shape, seed + i)) for i, (name, shape) in enumerate(spec)]


def tiny_lora() -> bytes:
    spec = [
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", ()),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", (4, 768)),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", (3072, 4)),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", ()),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", (4, 768)),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", (320, 4)),
    ]
    metadata = {
        "ss_base_model_version": "sd_v1",
        "ss_v2": "False",
        "ss_network_module": "networks.lora",
        "ss_network_dim": "4",
        "ss_network_alpha": "1.0",
        "ss_network_args": "None",
        "ss_output_name": "tiny-watercolor",
        "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
        "ss_resolution": "(512, 512)",
        "ss_num_train_images": "24",
        "ss_num_epochs": "10",
        "ss_learning_rate": "0.0001",
        "ss_optimizer": "torch.optim.adamw.AdamW",
        "ss_mixed_precision": "fp16",
        "ss_clip_skip": "2",
        "ss_tag_frequency": json.dumps({"10_tinywatercolor": {"tinywatercolor": 24, "landscape": 9}}),
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-v1/lora",
        "modelspec.implementation": "diffusers",
        "modelspec.title": "Tiny Watercolor",
    }
    return make_safetensors(_tensors(spec, 1), metadata)


def tiny_checkpoint() -> bytes:
    spec = [
        ("cond_stage_model.transformer.text_model.embeddings.position_embedding.weight", (77, 32)),
        ("first_stage_model.decoder.conv_in.weight", (32, 4, 3, 3)),
        ("first_stage_model.encoder.conv_in.weight", (32, 3, 3, 3)),
        ("model.diffusion_model.input_blocks.0.0.weight", (32, 4, 3, 3)),
        ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", (8, 768)),
        ("model.diffusion_model.out.2.weight", (4, 32, 3, 3)),
    ]
    return make_safetensors(_tensors(spec, 2), {"format": "pt"})


def tiny_vae() -> bytes:
    spec = [
        ("decoder.conv_in.weight", (32, 4, 3, 3)),
        ("encoder.conv_in.weight", (32, 3, 3, 3)),
        ("post_quant_conv.weight", (4, 4, 1, 1)),
        ("quant_conv.weight", (8, 8, 1, 1)),
    ]
    return make_safetensors(_tensors(spec, 3))


def example_image(
    top: tuple[int, int, int], bottom: tuple[int, int, int], *, prompt: str = "", extra_settings: str = ""
) -> bytes:
    """A small PNG for demo content: a vertical gradient with a sun, and A1111 generation settings in
    its `parameters` text chunk, as WebUI saves them (`extra_settings`, e.g. hashes, end the line)."""
    from PIL import Image, ImageDraw, PngImagePlugin

    width, height = 384, 480
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    draw.ellipse(
        [(width * 0.55, height * 0.12), (width * 0.85, height * 0.12 + width * 0.3)], fill=(255, 236, 179)
    )
    draw.polygon([(0, height), (width * 0.35, height * 0.55), (width * 0.7, height)], fill=(40, 48, 72))
    info = PngImagePlugin.PngInfo()
    if prompt:
        info.add_text(
            "parameters",
            f"{prompt}\nNegative prompt: lowres, blurry\n"
            "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 1234, Size: 384x480, Model: tiny-realism"
            + (f", {extra_settings}" if extra_settings else ""),
        )
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
