"""What the hub guesses a safetensors file is, from crafted headers of each family (docs/detection.md)."""

import io
import json
import math
from dataclasses import asdict

import pytest

from models_app.demo import make_safetensors, tiny_checkpoint, tiny_lora, tiny_vae
from models_app.files.detection import detect, suggested_trigger_words, training_metadata
from models_app.files.safetensors import DTYPE_BITS, read_header


def header_of(tensors, metadata=None):
    """tensors: [(name, shape)] or [(name, shape, dtype)]; payloads are zeros of the right size."""
    spec = []
    for item in tensors:
        name, shape, dtype = (*item, "F16") if len(item) == 2 else item
        spec.append((name, dtype, shape, bytes(math.prod(shape) * DTYPE_BITS[dtype] // 8)))
    data = make_safetensors(spec, metadata)
    return read_header(io.BytesIO(data), len(data))


def detect_file(data: bytes):
    return detect(read_header(io.BytesIO(data), len(data)))


def kohya_metadata(**extra):
    return {
        "ss_v2": "False",
        "ss_network_module": "networks.lora",
        "ss_network_dim": "4",
        "ss_network_alpha": "1.0",
        "ss_network_args": "None",
        **extra,
    }


SD1_LORA_KEYS = [
    ("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", ()),
    ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", (4, 768)),
    ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", (8, 4)),
    ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", ()),
    ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", (4, 768)),
    ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", (8, 4)),
]


# --- adapters -----------------------------------------------------------------------------------------


def test_the_demo_lora_is_an_sd15_lora_with_agreeing_metadata_and_keys():
    found = detect_file(tiny_lora())
    assert found.model_type == "LORA"
    assert found.base_model == "SD 1.5"
    assert found.confidence >= 0.9
    assert found.fp == "fp16"
    assert found.size_variant == ""
    assert "kohya LoRA keys (lora_unet_*, lora_te_*)" in found.evidence
    assert "modelspec.architecture = stable-diffusion-v1/lora" in found.evidence


def test_a_kohya_sd15_lora_without_metadata_is_found_from_keys_and_shapes_with_less_confidence():
    found = detect(header_of(SD1_LORA_KEYS))
    assert (found.model_type, found.base_model) == ("LORA", "SD 1.5")
    assert 0 < found.confidence < 0.9
    assert "attn2.to_k input width 768 (SD 1.x)" in found.evidence


def test_a_kohya_sd2_lora_is_told_apart_by_its_text_encoder_width():
    found = detect(header_of([("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", (4, 1024))]))
    assert (found.model_type, found.base_model) == ("LORA", "SD 2.1")


def test_an_sdxl_lora_is_found_from_ss_base_model_version_and_its_two_text_encoders():
    tensors = [
        ("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", (4, 8)),
        ("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", (8, 4)),
        ("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", (4, 8)),
        ("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", (8, 4)),
        ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight", (4, 8)),
    ]
    found = detect(header_of(tensors, kohya_metadata(ss_base_model_version="sdxl_base_v1-0")))
    assert (found.model_type, found.base_model) == ("LORA", "SDXL 1.0")
    assert found.confidence >= 0.9
    assert "ss_base_model_version = sdxl_base_v1-0" in found.evidence


def test_an_sdxl_lora_is_recognised_by_the_2048_wide_cross_attention():
    tensors = [("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight", (4, 2048))]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("LORA", "SDXL 1.0")
    assert "attn2.to_k input width 2048 (SDXL)" in found.evidence


@pytest.mark.parametrize(
    "architecture, base", [("flux-1-dev/lora", "Flux.1 D"), ("flux-1-schnell/lora", "Flux.1 S")]
)
def test_a_flux_lora_is_found_from_its_modelspec_architecture(architecture, base):
    tensors = [
        ("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", (4, 8)),
        ("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", (8, 4)),
        ("lora_unet_single_blocks_0_linear1.lora_down.weight", (4, 8)),
    ]
    metadata = {
        "modelspec.architecture": architecture,
        "modelspec.implementation": "https://github.com/black-forest-labs/flux",
        "ss_base_model_version": "flux1",
    }
    found = detect(header_of(tensors, metadata))
    assert (found.model_type, found.base_model) == ("LORA", base)
    assert found.confidence >= 0.9
    assert f"modelspec.architecture = {architecture}" in found.evidence


def test_a_locon_is_found_from_the_algo_in_ss_network_args():
    metadata = kohya_metadata(
        ss_network_module="lycoris.kohya",
        ss_network_args=json.dumps({"conv_dim": "8", "conv_alpha": "4", "algo": "locon"}),
        ss_base_model_version="sd_v1",
    )
    found = detect(header_of(SD1_LORA_KEYS, metadata))
    assert (found.model_type, found.base_model) == ("LoCon", "SD 1.5")
    assert found.confidence >= 0.9
    assert "algo = locon in ss_network_args (LyCORIS)" in found.evidence


def test_a_locon_is_found_from_a_lora_on_3x3_convolutions():
    tensors = [
        *SD1_LORA_KEYS,
        ("lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", (4, 8, 3, 3)),
        ("lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", (8, 4, 1, 1)),
    ]
    found = detect(header_of(tensors))
    assert found.model_type == "LoCon"
    assert "LoRA on 3x3 convolutions (4-D lora_down, LoCon)" in found.evidence


def test_a_lora_on_1x1_projections_stays_a_plain_lora():
    tensors = [
        *SD1_LORA_KEYS,
        ("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", (4, 8, 1, 1)),
    ]
    assert detect(header_of(tensors)).model_type == "LORA"


@pytest.mark.parametrize(
    "suffixes, evidence",
    [
        (["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"], "LoHa keys (hada_w1/hada_w2, LyCORIS)"),
        (["lokr_w1", "lokr_w2_a", "lokr_w2_b"], "LoKr keys (lokr_w1/lokr_w2, LyCORIS)"),
    ],
    ids=["LoHa", "LoKr"],
)
def test_loha_and_lokr_files_are_listed_as_locon_the_civitai_name_for_lycoris(suffixes, evidence):
    prefix = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k."
    found = detect(header_of([(prefix + suffix, (4, 4)) for suffix in suffixes]))
    assert found.model_type == "LoCon"
    assert evidence in found.evidence


def test_a_dora_is_found_from_its_magnitude_vectors():
    tensors = [
        *SD1_LORA_KEYS,
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.dora_scale", (1, 8)),
    ]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("DoRA", "SD 1.5")
    peft = [
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight", (4, 768)),
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight", (8, 4)),
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_magnitude_vector", (8,)),
    ]
    assert detect(header_of(peft)).model_type == "DoRA"


def test_a_peft_lora_is_a_lora_and_its_width_gives_the_base_model():
    tensors = [
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight", (4, 768)),
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight", (8, 4)),
    ]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("LORA", "SD 1.5")
    assert "PEFT/diffusers LoRA keys (.lora_A/.lora_B)" in found.evidence


# --- embeddings, VAE, ControlNet, others --------------------------------------------------------------


@pytest.mark.parametrize("width, base", [(768, "SD 1.5"), (1024, "SD 2.1")])
def test_an_emb_params_embedding_is_a_textual_inversion_for_the_width_of_its_vectors(width, base):
    found = detect(header_of([("emb_params", (2, width))]))
    assert (found.model_type, found.base_model) == ("TextualInversion", base)
    assert (
        f"embedding vectors emb_params of width {width} ({'SD 1.x' if width == 768 else 'SD 2.x'})"
        in found.evidence
    )


def test_an_sdxl_embedding_has_clip_l_and_clip_g_vectors():
    found = detect(header_of([("clip_g", (2, 1280)), ("clip_l", (2, 768))]))
    assert (found.model_type, found.base_model) == ("TextualInversion", "SDXL 1.0")


def test_an_a1111_string_to_param_embedding_is_a_textual_inversion():
    found = detect(header_of([("string_to_param.*", (3, 768))]))
    assert (found.model_type, found.base_model) == ("TextualInversion", "SD 1.5")


def test_the_demo_vae_is_a_vae_with_no_base_model_claimed():
    found = detect_file(tiny_vae())
    assert found.model_type == "VAE"
    assert found.base_model is None  # SD 1.x, 2.x and SDXL VAEs share a layout
    assert "4 latent channels (SD 1.x/2.x/SDXL)" in found.evidence
    assert found.size_variant == ""


def test_a_controlnet_is_found_from_its_hint_block_and_its_base_from_cross_attention():
    tensors = [
        ("control_model.input_hint_block.0.weight", (16, 3, 3, 3)),
        ("control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", (8, 768)),
        ("control_model.middle_block_out.0.weight", (8, 8, 1, 1)),
        ("control_model.zero_convs.0.0.weight", (8, 8, 1, 1)),
    ]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("Controlnet", "SD 1.5")
    assert found.confidence > 0


def test_a_diffusers_controlnet_is_found_from_its_condition_embedding():
    tensors = [
        ("controlnet_cond_embedding.conv_in.weight", (16, 3, 3, 3)),
        ("controlnet_down_blocks.0.weight", (8, 8, 1, 1)),
        ("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight", (8, 2048)),
    ]
    assert (detect(header_of(tensors)).model_type, detect(header_of(tensors)).base_model) == (
        "Controlnet",
        "SDXL 1.0",
    )


def test_a_motion_module_is_found_from_motion_modules_keys():
    tensors = [
        ("down_blocks.0.motion_modules.0.temporal_transformer.proj_in.weight", (8, 8)),
        ("down_blocks.0.motion_modules.0.temporal_transformer.norm.weight", (8,)),
    ]
    found = detect(header_of(tensors))
    assert found.model_type == "MotionModule"
    assert "AnimateDiff motion module keys (motion_modules.*)" in found.evidence


@pytest.mark.parametrize(
    "names",
    [
        ["conv_first.weight", "RRDB_trunk.0.RDB1.conv1.weight", "trunk_conv.weight", "conv_last.weight"],
        ["conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_last.weight"],
        ["model.0.weight", "model.1.sub.0.RDB1.conv1.0.weight", "model.3.weight"],
    ],
    ids=["old-arch", "new-arch", "model.N"],
)
def test_an_esrgan_upscaler_is_found_from_its_layer_names(names):
    found = detect(header_of([(name, (4, 3, 3, 3)) for name in names]))
    assert found.model_type == "Upscaler"
    assert found.base_model is None


# --- checkpoints ---------------------------------------------------------------------------------------

TO_K = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"


@pytest.mark.parametrize("width, base", [(768, "SD 1.5"), (1024, "SD 2.1"), (2048, "SDXL 1.0")])
def test_a_unet_checkpoint_base_model_follows_the_cross_attention_width(width, base):
    tensors = [("model.diffusion_model.input_blocks.0.0.weight", (8, 4, 3, 3)), (TO_K, (8, width))]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("Checkpoint", base)
    assert any(f"attn2.to_k input width {width}" in e for e in found.evidence)


def test_the_demo_checkpoint_is_a_pruned_sd15_checkpoint():
    found = detect_file(tiny_checkpoint())
    assert (found.model_type, found.base_model, found.size_variant) == ("Checkpoint", "SD 1.5", "pruned")


def test_an_sd2_checkpoint_is_found_from_its_open_clip_text_encoder():
    tensors = [
        ("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", (8, 8)),
        ("model.diffusion_model.input_blocks.0.0.weight", (8, 4, 3, 3)),
    ]
    assert detect(header_of(tensors)).base_model == "SD 2.1"


def test_an_sdxl_checkpoint_is_found_from_its_two_conditioners():
    tensors = [
        ("conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight", (77, 8)),
        ("conditioner.embedders.1.model.positional_embedding", (77, 8)),
        ("model.diffusion_model.input_blocks.0.0.weight", (8, 4, 3, 3)),
        ("model.diffusion_model.label_emb.0.0.weight", (8, 8)),
    ]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("Checkpoint", "SDXL 1.0")


def test_an_inpainting_checkpoint_says_so_in_the_evidence():
    tensors = [("model.diffusion_model.input_blocks.0.0.weight", (8, 9, 3, 3)), (TO_K, (8, 768))]
    assert "9 input channels (inpainting)" in detect(header_of(tensors)).evidence


def test_an_sd3_checkpoint_is_found_from_its_joint_blocks():
    tensors = [
        ("model.diffusion_model.context_embedder.weight", (8, 8)),
        ("model.diffusion_model.joint_blocks.0.context_block.attn.qkv.weight", (24, 8)),
        ("model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight", (24, 8)),
        ("model.diffusion_model.x_embedder.proj.weight", (8, 16, 2, 2)),
    ]
    found = detect(header_of(tensors))
    assert (found.model_type, found.base_model) == ("Checkpoint", "SD 3")
    with_norms = [*tensors, ("model.diffusion_model.joint_blocks.0.x_block.attn.ln_q.weight", (8,))]
    assert detect(header_of(with_norms)).base_model == "SD 3.5"


@pytest.mark.parametrize("prefix", ["", "model.diffusion_model."])
@pytest.mark.parametrize("guidance, base", [(True, "Flux.1 D"), (False, "Flux.1 S")])
def test_a_flux_checkpoint_is_dev_with_guidance_in_and_schnell_without(prefix, guidance, base):
    names = ["double_blocks.0.img_attn.qkv.weight", "img_in.weight", "single_blocks.0.linear1.weight"]
    names += ["time_in.in_layer.weight", "txt_in.weight", "vector_in.in_layer.weight"]
    if guidance:
        names.append("guidance_in.in_layer.weight")
    found = detect(header_of([(prefix + name, (8, 8), "BF16") for name in names]))
    assert (found.model_type, found.base_model, found.fp) == ("Checkpoint", base, "bf16")


def test_a_checkpoint_with_ema_weights_is_full_and_one_without_is_pruned():
    tensors = [("model.diffusion_model.input_blocks.0.0.weight", (8, 4, 3, 3)), (TO_K, (8, 768))]
    assert detect(header_of(tensors)).size_variant == "pruned"
    with_ema = [
        *tensors,
        ("model_ema.decay", ()),
        ("model_ema.diffusion_modelinput_blocks00weight", (8, 4, 3, 3)),
    ]
    assert detect(header_of(with_ema)).size_variant == "full"


# --- precision, unknown files, disagreements -----------------------------------------------------------


@pytest.mark.parametrize(
    "tensors, fp",
    [
        ([("a", (8, 8), "F16"), ("b", (2,), "F32")], "fp16"),
        ([("a", (8, 8), "BF16"), ("b", (2,), "F32")], "bf16"),
        # More F16 tensors, but the F32 one holds the most bytes.
        ([("a", (2,), "F16"), ("b", (2,), "F16"), ("c", (2,), "F16"), ("d", (8, 8), "F32")], "fp32"),
        ([("a", (8, 8), "F8_E4M3"), ("b", (2,), "F32")], "fp8"),
        ([("a", (8, 8), "F8_E5M2")], "fp8"),
        ([("a", (8,), "I64")], ""),
        ([], ""),
    ],
    ids=["fp16", "bf16", "fp32-by-bytes", "fp8-e4m3", "fp8-e5m2", "integers", "empty"],
)
def test_precision_is_the_dtype_holding_the_most_bytes(tensors, fp):
    assert detect(header_of(tensors)).fp == fp


def test_a_file_with_unknown_keys_has_no_type_and_zero_confidence():
    found = detect(header_of([("foo.weight", (4, 4)), ("bar.bias", (4,))]))
    assert found.model_type is None
    assert found.base_model is None
    assert found.confidence == 0
    assert found.evidence == []
    assert found.size_variant == ""


def test_metadata_alone_gives_a_guess_with_low_confidence():
    found = detect(
        header_of([("foo.weight", (4, 4))], {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"})
    )
    assert (found.model_type, found.base_model) == ("LORA", "SDXL 1.0")
    assert 0 < found.confidence < 0.8


def test_when_the_metadata_contradicts_the_shapes_the_shapes_win_and_confidence_drops():
    found = detect(header_of(SD1_LORA_KEYS, kohya_metadata(ss_base_model_version="sdxl_base_v1-0")))
    assert found.base_model == "SD 1.5"
    assert found.confidence <= 0.5
    assert "the metadata says SDXL 1.0, but the tensor shapes say SD 1.5" in found.evidence


def test_a_detection_can_be_stored_as_json():
    found = detect_file(tiny_lora())
    assert json.loads(json.dumps(asdict(found)))["model_type"] == "LORA"


# --- training metadata and trigger words ---------------------------------------------------------------


def demo_metadata():
    data = tiny_lora()
    return read_header(io.BytesIO(data), len(data)).metadata


def test_training_metadata_groups_kohya_and_modelspec_keys_and_parses_the_tag_frequency():
    info = training_metadata(demo_metadata())
    assert info["kohya"]["ss_network_module"] == "networks.lora"
    assert info["kohya"]["ss_output_name"] == "tiny-watercolor"
    assert info["kohya"]["ss_network_args"] == "None"
    assert "ss_tag_frequency" not in info["kohya"]  # shown parsed instead
    assert info["modelspec"]["title"] == "Tiny Watercolor"
    assert info["modelspec"]["architecture"] == "stable-diffusion-v1/lora"
    assert info["parsed"]["tag_frequency"] == {"10_tinywatercolor": {"tinywatercolor": 24, "landscape": 9}}
    assert "network_args" not in info["parsed"]
    assert info["warnings"] == []
    assert json.loads(json.dumps(info)) == info


def test_the_demo_lora_suggests_its_most_frequent_tags_as_trigger_words():
    assert suggested_trigger_words(demo_metadata()) == ["tinywatercolor", "landscape"]


def test_a_trigger_phrase_comes_first_and_suggestions_stop_at_ten():
    tags = {"10_a": {f"tag{i:02d}": 100 - i for i in range(30)}, "5_b": {"tag29": 500}}
    metadata = {"modelspec.trigger_phrase": "zxc style, Zxc Style ,  ", "ss_tag_frequency": json.dumps(tags)}
    words = suggested_trigger_words(metadata)
    assert words == [
        "zxc style",
        "tag29",
        "tag00",
        "tag01",
        "tag02",
        "tag03",
        "tag04",
        "tag05",
        "tag06",
        "tag07",
    ]


def test_tag_frequency_is_capped_to_200_tags_in_20_folders_with_a_warning():
    tags = {f"{n}_folder{n}": {f"t{i}": i + n for i in range(300)} for n in range(30)}
    info = training_metadata({"ss_tag_frequency": json.dumps(tags)})
    kept = info["parsed"]["tag_frequency"]
    assert len(kept) == 20
    assert "29_folder29" in kept and "0_folder0" not in kept  # the folders with the most tags counted
    assert len(kept["29_folder29"]) == 200
    assert next(iter(kept["29_folder29"].items())) == ("t299", 328)
    assert any("shortened" in w for w in info["warnings"])


def test_dataset_dirs_and_network_args_are_parsed():
    metadata = {
        "ss_dataset_dirs": json.dumps({"10_cat": {"n_repeats": 10, "img_count": 24}}),
        "ss_network_args": json.dumps({"conv_dim": "8", "algo": "locon"}),
        "format": "pt",
    }
    info = training_metadata(metadata)
    assert info["parsed"]["dataset_dirs"] == {"10_cat": {"n_repeats": 10, "img_count": 24}}
    assert info["parsed"]["network_args"] == {"conv_dim": "8", "algo": "locon"}
    assert info["other"] == {"format": "pt"}


@pytest.mark.parametrize(
    "value, reason",
    [
        ("{not json", "not valid JSON"),
        ('{"a": {"b": NaN}}', "NaN"),
        ('{"a": {"b": 1}, "a": {"b": 2}}', "twice"),
        ('{"a":' + "[" * 10_000 + "]" * 10_000 + "}", "nested too deeply"),
    ],
    ids=["broken", "NaN", "duplicate", "10000-deep"],
)
def test_a_bad_json_in_a_string_is_kept_raw_and_not_parsed(value, reason):
    info = training_metadata({"ss_tag_frequency": value})
    assert "tag_frequency" not in info["parsed"]
    assert info["kohya"]["ss_tag_frequency"] == value
    assert any(w.startswith("ss_tag_frequency was not parsed") and reason in w for w in info["warnings"])
    assert suggested_trigger_words({"ss_tag_frequency": value}) == []


def test_nul_characters_inside_a_json_string_are_removed_from_tags():
    value = json.dumps({"10_x\u0000": {"ta\u0000g": 3, "\ud800": 2}})
    info = training_metadata({"ss_tag_frequency": value})
    assert info["parsed"]["tag_frequency"] == {"10_x": {"tag": 3, "\ufffd": 2}}
    json.dumps(info).encode("utf-8")


def test_a_png_thumbnail_is_kept_and_other_data_urls_are_dropped():
    good = "data:image/png;base64,iVBORw0KGgo="
    assert training_metadata({"modelspec.thumbnail": good})["modelspec"] == {"thumbnail": good}
    for bad in ("data:image/svg+xml;base64,PHN2Zz4=", "javascript:alert(1)", "https://example.com/x.png"):
        info = training_metadata({"modelspec.thumbnail": bad})
        assert "thumbnail" not in info["modelspec"]
        assert any("modelspec.thumbnail" in w for w in info["warnings"])


def test_very_long_raw_values_are_left_out_of_the_display_with_a_warning():
    info = training_metadata({"ss_datasets": "x" * 100_000, "ss_seed": "42"})
    assert info["kohya"] == {"ss_seed": "42"}
    assert any("ss_datasets" in w for w in info["warnings"])
