"""What a safetensors file is, from its header alone (docs/detection.md): model type, base model, precision.

`detect(header)` looks at the metadata first (`modelspec.architecture`, kohya's `ss_*` keys), then at
tensor names, then at the shapes that tell the families apart (the input width of cross-attention
`attn2.to_k`: 768 for SD 1.x, 1024 for SD 2.x, 2048 for SDXL). Where the metadata and the tensors
disagree, the tensors win, since the metadata is just text anyone can write, and the confidence
drops. The uploader's choice always wins in the end; this only feeds hints and defaults.

`training_metadata(metadata)` groups the header metadata for display and parses kohya's
JSON-in-a-string values with the same limits as the header; `suggested_trigger_words(metadata)`
offers the words a creator most likely wants to list.
"""

import math
import re
from dataclasses import dataclass, field

from .safetensors import (
    MAX_METADATA_VALUE_SIZE,
    MAX_THUMBNAIL_SIZE,
    HeaderError,
    SafetensorsHeader,
    TensorInfo,
    clean_text,
    loads_strict,
)


class DetectedType:
    """The model types detection can tell apart, as the values of models_app.models.ModelType (CivitAI's
    type names). Plain strings: this package reads bytes and knows nothing of the catalog."""

    CHECKPOINT = "Checkpoint"
    TEXTUAL_INVERSION = "TextualInversion"
    LORA = "LORA"
    LOCON = "LoCon"
    DORA = "DoRA"
    CONTROLNET = "Controlnet"
    UPSCALER = "Upscaler"
    MOTION_MODULE = "MotionModule"
    VAE = "VAE"


SD15, SD21, SDXL, SD3, SD35 = "SD 1.5", "SD 2.1", "SDXL 1.0", "SD 3", "SD 3.5"
FLUX_DEV, FLUX_SCHNELL, OTHER = "Flux.1 D", "Flux.1 S", "Other"
_FAMILY = {
    SD15: "sd1",
    SD21: "sd2",
    SDXL: "sdxl",
    SD3: "sd3",
    SD35: "sd3",
    FLUX_DEV: "flux",
    FLUX_SCHNELL: "flux",
    OTHER: "other",
}
_WIDTH_BASE = {768: (SD15, "SD 1.x"), 1024: (SD21, "SD 2.x"), 2048: (SDXL, "SDXL")}
_ADAPTERS = [DetectedType.LORA, DetectedType.LOCON, DetectedType.DORA]  # least to most specific
_LYCORIS_ALGOS = {
    "lora",
    "locon",
    "loha",
    "lokr",
    "ia3",
    "glora",
    "full",
    "diag-oft",
    "oft",
    "boft",
    "dylora",
}
_FP = {"F32": "fp32", "F16": "fp16", "BF16": "bf16", "F64": "fp64"}
_BFL_FLUX = "https://github.com/black-forest-labs/flux"

MAX_TAG_DIRS = 20
MAX_TAGS_PER_DIR = 200
MAX_DATASET_DIRS = 20
MAX_NETWORK_ARGS = 50
MAX_TEXT = 200  # characters kept of a tag, folder name or network argument
MAX_DISPLAY_VALUE = 64 * 1024  # raw metadata strings longer than this are left out of training_metadata
MAX_TRIGGER_WORDS = 10
_THUMBNAIL = re.compile(r"data:image/(?:png|jpeg|webp|gif);base64,[A-Za-z0-9+/=\s]+")
_TO_K = re.compile(r"attn2[._]to_k")


@dataclass
class Detection:
    model_type: str | None  # a DetectedType value (= a ModelType value), or None when nothing matched
    base_model: str | None  # a BaseModel name ("SD 1.5", "SDXL 1.0", "Flux.1 D", ... "Other"), or None
    fp: str  # "fp16", "bf16", "fp32", "fp8", ... or "" when no float dtype holds the data
    size_variant: str  # "full" / "pruned" for checkpoints, "" for everything else
    confidence: float  # 0.95 metadata and tensors agree; 0.8 tensors only; 0.6 metadata only; 0.5 conflict
    evidence: list[str] = field(default_factory=list)


def _short(value: str, limit: int = 80) -> str:
    text, _ = clean_text(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- metadata --------------------------------------------------------------------------------------


def _architecture_base(arch: str) -> str:
    a = arch.strip().lower()
    if a.startswith("stable-diffusion-xl"):
        return SDXL
    if a.startswith(("stable-diffusion-v3", "stable-diffusion-3")):
        return SD35 if ("3-5" in a or "3.5" in a) else SD3
    if a.startswith("stable-diffusion-v2"):
        return SD21
    if a.startswith("stable-diffusion-v1"):
        return SD15
    if a.startswith("flux-1-schnell"):
        return FLUX_SCHNELL
    if a.startswith("flux-1"):  # flux-1-dev, and kohya's "flux-1" when the variant is unknown
        return FLUX_DEV
    return OTHER


def _architecture_type(adapter: str) -> str | None:
    adapter = adapter.strip().lower()
    if not adapter:
        return DetectedType.CHECKPOINT
    if adapter == "lora":
        return DetectedType.LORA
    if adapter in ("lycoris", "locon", "loha", "lokr"):
        return DetectedType.LOCON
    if adapter == "dora":
        return DetectedType.DORA
    if adapter in ("textual-inversion", "embedding"):
        return DetectedType.TEXTUAL_INVERSION
    if adapter in ("controlnet", "control-lora"):
        return DetectedType.CONTROLNET
    if adapter == "vae":
        return DetectedType.VAE
    return None


def _kohya_base(version: str) -> str | None:
    v = version.strip().lower()
    if not v or v == "none":
        return None
    if v.startswith("sd_v1"):
        return SD15
    if v.startswith("sd_v2"):
        return SD21
    if v.startswith("sdxl"):
        return SDXL
    if v.startswith("sd3"):
        return SD35 if ("3.5" in v or "3_5" in v or "3-5" in v) else SD3
    if v.startswith("flux"):
        return FLUX_SCHNELL if "schnell" in v else FLUX_DEV
    return OTHER


def network_args(metadata: dict[str, str]) -> dict | None:
    """ss_network_args as a dict, or None when absent, "None" or not a JSON object."""
    raw = metadata.get("ss_network_args")
    if not isinstance(raw, str) or raw.strip() in ("", "None") or len(raw) > MAX_METADATA_VALUE_SIZE:
        return None
    try:
        value = loads_strict(raw, "its JSON")
    except HeaderError:
        return None
    return value if isinstance(value, dict) else None


def _from_metadata(metadata: dict[str, str]) -> tuple[str | None, str | None, list[str]]:
    model_type = base = None
    evidence: list[str] = []
    arch = metadata.get("modelspec.architecture", "").strip()
    if arch:
        family, _, adapter = arch.partition("/")
        base = _architecture_base(family)
        model_type = _architecture_type(adapter)
        evidence.append(f"modelspec.architecture = {_short(arch)}")
    version = metadata.get("ss_base_model_version", "")
    if base is None and _kohya_base(version):
        base = _kohya_base(version)
        evidence.append(f"ss_base_model_version = {_short(version)}")
    if base is None and metadata.get("ss_v2", "").strip() == "True":
        base = SD21
        evidence.append("ss_v2 = True (SD 2.x)")
    if base is None and metadata.get("modelspec.implementation", "").strip() == _BFL_FLUX:
        base = FLUX_DEV
        evidence.append(f"modelspec.implementation = {_BFL_FLUX}")

    module = metadata.get("ss_network_module", "").strip()
    if module and module != "None":
        evidence.append(f"ss_network_module = {_short(module, 40)}")
        args = network_args(metadata) or {}
        algo = str(args.get("algo", "")).strip().lower()
        module_type = DetectedType.LORA
        if module.startswith("lycoris") or module == "networks.oft":
            module_type = DetectedType.LOCON
        if algo in _LYCORIS_ALGOS - {"lora", "dylora"} or (algo and module.startswith("lycoris")):
            module_type = DetectedType.LOCON
            evidence.append(f"algo = {_short(algo, 30)} in ss_network_args (LyCORIS)")
        elif "conv_dim" in args and module.startswith("networks.lora"):
            module_type = DetectedType.LOCON
            evidence.append("conv_dim in ss_network_args (LoRA on conv layers, LoCon)")
        if str(args.get("dora_wd", "")).strip().lower() == "true":
            module_type = DetectedType.DORA
            evidence.append("dora_wd = True in ss_network_args (DoRA)")
        if model_type is None or model_type in _ADAPTERS:
            model_type = _more_specific(model_type, module_type)
    return model_type, base, evidence


def _more_specific(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b, key=_ADAPTERS.index)


# --- tensor names and shapes -----------------------------------------------------------------------


def _to_k_width(tensors: list[TensorInfo], adapter: bool) -> int | None:
    """The input width of cross-attention to_k, read from the weight or the LoRA's down projection."""
    for t in tensors:
        if not _TO_K.search(t.name) or len(t.shape) != 2:
            continue
        if adapter:
            if t.name.endswith((".lora_down.weight", ".lora_A.weight", ".lora.down.weight", ".hada_w1_b")):
                return t.shape[1]
        elif t.name.endswith("to_k.weight"):
            return t.shape[1]
    return None


def _adapter_base(tensors: list[TensorInfo], names: list[str]) -> tuple[str | None, list[str]]:
    if any("double_blocks" in n or "single_blocks" in n or "single_transformer_blocks" in n for n in names):
        return FLUX_DEV, [
            "Flux.1 transformer blocks (double_blocks/single_blocks; dev and schnell look alike)"
        ]
    if any("joint_blocks" in n for n in names):
        return SD3, ["SD 3 MMDiT blocks (joint_blocks)"]
    width = _to_k_width(tensors, adapter=True)
    if width in _WIDTH_BASE:
        base, label = _WIDTH_BASE[width]
        return base, [f"attn2.to_k input width {width} ({label})"]
    if any(n.startswith(("lora_te1_", "lora_te2_", "text_encoder_2.")) for n in names):
        return SDXL, ["two text encoders (lora_te1_/lora_te2_, SDXL)"]
    for t in tensors:
        if t.name.startswith(("lora_te_", "text_encoder.")) and len(t.shape) == 2:
            if t.name.endswith((".lora_down.weight", ".lora_A.weight")) and t.shape[1] in (768, 1024):
                base, label = _WIDTH_BASE[t.shape[1]]
                return base, [f"text encoder LoRA input width {t.shape[1]} ({label})"]
    if any(n.startswith(("lora_unet_input_blocks_", "lora_unet_output_blocks_")) for n in names):
        return SDXL, ["UNet LoRA keys in SGM naming (lora_unet_input_blocks_*, SDXL)"]
    return None, []


def _adapter_type(tensors: list[TensorInfo], names: list[str]) -> tuple[str | None, list[str]]:
    evidence = []
    kohya = [
        p
        for p in ("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_", "lora_te3_")
        if any(n.startswith(p) for n in names)
    ]
    if kohya:
        evidence.append(f"kohya LoRA keys ({', '.join(p + '*' for p in kohya)})")
    peft = any(".lora_A." in n or ".lora_B." in n for n in names)
    if peft:
        evidence.append("PEFT/diffusers LoRA keys (.lora_A/.lora_B)")
    down_up = any(n.endswith((".lora_down.weight", ".lora_up.weight", ".lora.down.weight")) for n in names)
    if down_up and not kohya:
        evidence.append("LoRA keys (.lora_down/.lora_up)")
    if any(n.endswith(".dora_scale") or "lora_magnitude_vector" in n for n in names):
        return DetectedType.DORA, [
            *evidence,
            "DoRA magnitude vectors (dora_scale / lora_magnitude_vector)",
        ]
    if any(".hada_w1_" in n or ".hada_w2_" in n for n in names):
        return DetectedType.LOCON, [*evidence, "LoHa keys (hada_w1/hada_w2, LyCORIS)"]
    if any(".lokr_w1" in n or ".lokr_w2" in n for n in names):
        return DetectedType.LOCON, [*evidence, "LoKr keys (lokr_w1/lokr_w2, LyCORIS)"]
    if any(".oft_blocks" in n or ".oft_diag" in n for n in names):
        return DetectedType.LOCON, [*evidence, "OFT keys (oft_blocks)"]
    if any(n.endswith(".on_input") for n in names):
        return DetectedType.LOCON, [*evidence, "(IA)3 keys (on_input, LyCORIS)"]
    if any(
        t.name.endswith(".lora_down.weight") and len(t.shape) == 4 and t.shape[2:] != (1, 1) for t in tensors
    ):
        return DetectedType.LOCON, [*evidence, "LoRA on 3x3 convolutions (4-D lora_down, LoCon)"]
    if kohya or peft or down_up:
        return DetectedType.LORA, evidence
    return None, []


def _strip(name: str) -> str:
    for prefix in ("model.diffusion_model.", "diffusion_model."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _from_keys(tensors: list[TensorInfo]) -> tuple[str | None, str | None, list[str]]:
    names = [t.name for t in tensors]
    if not names:
        return None, None, []
    by_name = {t.name: t for t in tensors}

    if any("lora_controlnet" in n for n in names):
        return DetectedType.CONTROLNET, None, ["Control-LoRA keys (lora_controlnet)"]
    model_type, evidence = _adapter_type(tensors, names)
    if model_type:
        base, base_evidence = _adapter_base(tensors, names)
        return model_type, base, evidence + base_evidence

    embedding_names = {"emb_params", "clip_l", "clip_g"}
    if all(n in embedding_names or n.startswith(("string_to_param.", "string_to_token.")) for n in names):
        if "clip_l" in by_name and "clip_g" in by_name:
            return DetectedType.TEXTUAL_INVERSION, SDXL, ["embedding vectors clip_l + clip_g (SDXL)"]
        vector = by_name.get("emb_params") or next(
            (t for t in tensors if t.name.startswith("string_to_param.")), None
        )
        if vector is not None:
            width = vector.shape[-1] if vector.shape else None
            label = "emb_params" if vector.name == "emb_params" else "string_to_param"
            if width in (768, 1024):
                base, family = _WIDTH_BASE[width]
                return (
                    DetectedType.TEXTUAL_INVERSION,
                    base,
                    [f"embedding vectors {label} of width {width} ({family})"],
                )
            return DetectedType.TEXTUAL_INVERSION, None, [f"embedding vectors {label}"]

    if "encoder.conv_in.weight" in by_name and "decoder.conv_in.weight" in by_name:
        evidence = ["VAE keys (encoder.conv_in, decoder.conv_in) and no UNet"]
        decoder_in = by_name["decoder.conv_in.weight"].shape
        if len(decoder_in) == 4 and decoder_in[1] in (4, 16):
            family = "SD 1.x/2.x/SDXL" if decoder_in[1] == 4 else "SD 3/Flux"
            evidence.append(f"{decoder_in[1]} latent channels ({family})")
        return DetectedType.VAE, None, evidence

    control = (
        "input_hint_block.",
        "zero_convs.",
        "middle_block_out.",
        "controlnet_cond_embedding.",
        "controlnet_down_blocks.",
    )
    if any(marker in n for n in names for marker in control):
        evidence = ["ControlNet keys (input_hint_block / zero_convs / controlnet_cond_embedding)"]
        base = None
        width = _to_k_width(tensors, adapter=False)
        if width in _WIDTH_BASE:
            base, label = _WIDTH_BASE[width]
            evidence.append(f"attn2.to_k input width {width} ({label})")
        return DetectedType.CONTROLNET, base, evidence

    if any("motion_modules." in n for n in names):
        return DetectedType.MOTION_MODULE, None, ["AnimateDiff motion module keys (motion_modules.*)"]

    if "conv_first.weight" in by_name and any(n.startswith(("RRDB_trunk.", "body.")) for n in names):
        return DetectedType.UPSCALER, None, ["ESRGAN upscaler keys (conv_first, RRDB_trunk/body)"]
    if "model.0.weight" in by_name and all(re.match(r"model\.\d+\.", n) for n in names):
        return DetectedType.UPSCALER, None, ["ESRGAN upscaler keys (model.0.weight, old layout)"]

    return _checkpoint(tensors, names)


def _checkpoint(tensors: list[TensorInfo], names: list[str]) -> tuple[str | None, str | None, list[str]]:
    checkpoint = DetectedType.CHECKPOINT
    stripped = [_strip(n) for n in names]
    if any(n.startswith("double_blocks.") for n in stripped) and any(
        n.startswith("single_blocks.") for n in stripped
    ):
        if any(n.startswith("guidance_in.") for n in stripped):
            return (
                checkpoint,
                FLUX_DEV,
                ["Flux.1 transformer (double_blocks, single_blocks)", "guidance_in present (dev)"],
            )
        return (
            checkpoint,
            FLUX_SCHNELL,
            ["Flux.1 transformer (double_blocks, single_blocks)", "no guidance_in (schnell)"],
        )
    if any(n.startswith("joint_blocks.") for n in stripped):
        evidence = ["SD 3 MMDiT keys (joint_blocks)"]
        if any(n.startswith("joint_blocks.") and (".ln_q." in n or ".attn2." in n) for n in stripped):
            return checkpoint, SD35, [*evidence, "query/key norms or second attention (SD 3.5)"]
        return checkpoint, SD3, evidence

    unet = any(n.startswith("model.diffusion_model.input_blocks.") for n in names)
    base, evidence = None, []
    if any(
        n.startswith(("conditioner.embedders.1.model.", "conditioner.embedders.0.model.")) for n in names
    ) or any(n.startswith("model.diffusion_model.label_emb.") for n in names):
        base, evidence = SDXL, ["SDXL keys (conditioner.embedders, label_emb)"]
    elif any(n.startswith("cond_stage_model.model.") for n in names):
        base, evidence = SD21, ["SD 2.x text encoder (cond_stage_model.model.*)"]
    elif any(n.startswith("cond_stage_model.transformer.") for n in names):
        base, evidence = SD15, ["SD 1.x text encoder (cond_stage_model.transformer.*)"]
    if not unet and base is None:
        return None, None, []
    evidence.insert(
        0,
        "UNet checkpoint keys (model.diffusion_model.input_blocks)"
        if unet
        else "checkpoint text encoder keys",
    )
    width = _to_k_width(tensors, adapter=False)
    if width in _WIDTH_BASE:
        width_base, label = _WIDTH_BASE[width]
        evidence.append(f"attn2.to_k input width {width} ({label})")
        if base is not None and base != width_base:
            evidence.append(f"the text encoder keys suggest {base}; the UNet shapes win")
        base = width_base
    for t in tensors:
        if (
            t.name == "model.diffusion_model.input_blocks.0.0.weight"
            and len(t.shape) == 4
            and t.shape[1] == 9
        ):
            evidence.append("9 input channels (inpainting)")
    return checkpoint, base, evidence


# --- precision and size ----------------------------------------------------------------------------


def _fp(tensors: list[TensorInfo]) -> str:
    totals: dict[str, int] = {}
    for t in tensors:
        totals[t.dtype] = totals.get(t.dtype, 0) + (t.end - t.begin)
    if not totals or max(totals.values()) == 0:
        return ""
    dtype = max(totals, key=lambda d: (totals[d], d))
    if dtype.startswith("F8_"):
        return "fp8"
    return _FP.get(dtype, "")


def detect(header: SafetensorsHeader) -> Detection:
    """Infer type, base model, precision and size variant from a validated header (docs/detection.md#inference)."""
    meta_type, meta_base, meta_evidence = _from_metadata(header.metadata)
    key_type, key_base, key_evidence = _from_keys(header.tensors)
    evidence = meta_evidence + key_evidence
    conflict = False

    if key_type and meta_type:
        if key_type in _ADAPTERS and meta_type in _ADAPTERS:
            model_type = _more_specific(key_type, meta_type)
        else:
            model_type = key_type
            if key_type != meta_type:
                conflict = True
                evidence.append(f"the metadata says {meta_type}, but the tensors look like {key_type}")
    else:
        model_type = key_type or meta_type

    if key_base and meta_base:
        if _FAMILY.get(key_base) == _FAMILY.get(meta_base):
            base_model = meta_base  # the metadata names the variant (dev/schnell, 3/3.5) the keys can't
        else:
            base_model = key_base
            conflict = True
            evidence.append(f"the metadata says {meta_base}, but the tensor shapes say {key_base}")
    else:
        base_model = key_base or meta_base

    if conflict:
        confidence = 0.5
    elif key_type and (meta_type or (meta_base and key_base)):
        confidence = 0.95
    elif key_type:
        confidence = 0.8
    elif meta_type:
        confidence = 0.6
    elif base_model:
        confidence = 0.3
    else:
        confidence = 0.0

    size_variant = ""
    if model_type == DetectedType.CHECKPOINT:
        size_variant = "full" if any(t.name.startswith("model_ema.") for t in header.tensors) else "pruned"
        evidence.append(
            "EMA weights present (model_ema.*)" if size_variant == "full" else "no EMA weights (pruned)"
        )
    return Detection(
        model_type=model_type,
        base_model=base_model,
        fp=_fp(header.tensors),
        size_variant=size_variant,
        confidence=confidence,
        evidence=evidence,
    )


# --- training metadata -----------------------------------------------------------------------------


def _parse_json_value(metadata: dict[str, str], key: str, warnings: list[str]):
    raw = metadata.get(key)
    if not isinstance(raw, str) or raw.strip() in ("", "None"):
        return None
    if len(raw) > MAX_METADATA_VALUE_SIZE:
        warnings.append(f"{key} is over {MAX_METADATA_VALUE_SIZE} characters and was not read.")
        return None
    try:
        return loads_strict(raw, "its JSON")
    except HeaderError as exc:
        warnings.append(f"{key} was not parsed: {exc.reason}.")
        return None


def _text(value, limit: int = MAX_TEXT) -> str:
    text, _ = clean_text(str(value))
    return text.strip()[:limit]


def _count(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and math.isfinite(value) and value >= 0 and value.is_integer():
        return int(value)
    return None


def _tag_frequency(value, warnings: list[str]) -> dict[str, dict[str, int]] | None:
    if not isinstance(value, dict):
        return None
    folders = []
    for folder, tags in value.items():
        if not isinstance(tags, dict):
            continue
        counts: dict[str, int] = {}
        for tag, count in tags.items():
            tag, n = _text(tag), _count(count)
            if tag and n is not None:
                counts[tag] = counts.get(tag, 0) + n
        folders.append((_text(folder), counts))
    folders.sort(key=lambda item: -sum(item[1].values()))  # stable: ties keep the file's order
    result, shortened = {}, len(folders) > MAX_TAG_DIRS
    for folder, counts in folders[:MAX_TAG_DIRS]:
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        shortened = shortened or len(top) > MAX_TAGS_PER_DIR
        result[folder] = dict(top[:MAX_TAGS_PER_DIR])
    if shortened:
        warnings.append(
            f"ss_tag_frequency was shortened to the {MAX_TAGS_PER_DIR} most frequent tags in each of at most "
            f"{MAX_TAG_DIRS} folders."
        )
    return result


def _dataset_dirs(value) -> dict[str, dict[str, int]] | None:
    if not isinstance(value, dict):
        return None
    result = {}
    for folder, info in list(value.items())[:MAX_DATASET_DIRS]:
        if isinstance(info, dict):
            result[_text(folder)] = {
                k: n for k in ("n_repeats", "img_count") if (n := _count(info.get(k))) is not None
            }
    return result


def _network_args(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    result = {}
    for key, item in list(value.items())[:MAX_NETWORK_ARGS]:
        if isinstance(item, bool | int) or (isinstance(item, float) and math.isfinite(item)):
            result[_text(key)] = item
        elif isinstance(item, str):
            result[_text(key)] = _text(item)
    return result


def training_metadata(metadata: dict[str, str]) -> dict:
    """The header metadata grouped for display: kohya `ss_*`/`sshs_*`, ModelSpec, other, and parsed JSON.

    Every string is cleaned (no NUL, no lone surrogates). Raw values over 64 KiB are left out with a
    warning; `ss_tag_frequency` appears only in parsed form (capped to 200 tags x 20 folders) because
    it is often the largest value in the file. A thumbnail is kept only as a PNG/JPEG/WebP/GIF
    `data:image/...;base64,` URL within 512 KiB.
    """
    result: dict = {"kohya": {}, "modelspec": {}, "other": {}, "parsed": {}, "warnings": []}
    warnings: list[str] = result["warnings"]
    parsed = result["parsed"]

    tag_frequency = _tag_frequency(_parse_json_value(metadata, "ss_tag_frequency", warnings), warnings)
    if tag_frequency is not None:
        parsed["tag_frequency"] = tag_frequency
    dataset_dirs = _dataset_dirs(_parse_json_value(metadata, "ss_dataset_dirs", warnings))
    if dataset_dirs is not None:
        parsed["dataset_dirs"] = dataset_dirs
    args = _network_args(_parse_json_value(metadata, "ss_network_args", warnings))
    if args is not None:
        parsed["network_args"] = args

    for raw_key, raw_value in metadata.items():
        if not isinstance(raw_key, str) or not isinstance(raw_value, str):
            continue
        key, _ = clean_text(raw_key)
        value, _ = clean_text(raw_value)
        if key == "ss_tag_frequency" and tag_frequency is not None:
            continue
        if key == "modelspec.thumbnail":
            if len(value) <= MAX_THUMBNAIL_SIZE and _THUMBNAIL.fullmatch(value):
                result["modelspec"]["thumbnail"] = value
            else:
                warnings.append(
                    "modelspec.thumbnail is not a PNG/JPEG/WebP/GIF data: URL within the limit; left out."
                )
            continue
        if len(value) > MAX_DISPLAY_VALUE:
            warnings.append(f"{_short(key, 60)} ({len(value)} characters) is too long to show; left out.")
            continue
        if key.startswith(("ss_", "sshs_")):
            result["kohya"][key] = value
        elif key.startswith("modelspec."):
            result["modelspec"][key[len("modelspec.") :]] = value
        else:
            result["other"][key] = value
    return result


def suggested_trigger_words(metadata: dict[str, str]) -> list[str]:
    """Up to 10 likely trigger words: modelspec.trigger_phrase first, then the most frequent training tags."""
    words: list[str] = []
    seen: set[str] = set()

    def add(word: str) -> None:
        word = " ".join(_text(word).split())
        if word and word.lower() not in seen and len(words) < MAX_TRIGGER_WORDS:
            seen.add(word.lower())
            words.append(word)

    phrase = metadata.get("modelspec.trigger_phrase")
    if isinstance(phrase, str) and len(phrase) <= MAX_DISPLAY_VALUE:
        for part in phrase.split(","):
            add(part)
    tags = _tag_frequency(_parse_json_value(metadata, "ss_tag_frequency", []), [])
    if tags:
        totals: dict[str, int] = {}
        for counts in tags.values():
            for tag, count in counts.items():
                totals[tag] = totals.get(tag, 0) + count
        for tag, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
            for part in tag.split(","):
                add(part)
    return words
