"""What an image says about how it was made: one entry point for every carrier (docs/image-metadata.md).

`read_generation_metadata(f)` is what the pipeline and resources call. It reads A1111/Forge
`parameters` text from PNG text chunks (images.image_text_chunks), EXIF UserComment in JPEG and WebP
and the GIF comment (carriers), NovelAI's PNG chunks, and ComfyUI's `prompt`/`workflow` graphs (PNG
chunks, or EXIF tags with a `workflow:`/`prompt:` prefix); it turns hashes and prompt tags into the
resources list (infotext.infotext_resources). Pure: imports no app. Bounded, and never raises for
anything in the file: unreadable metadata gives `meta=None`, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from . import bounded_json, carriers, images, infotext

MAX_GRAPH_NODES = 5_000  # API-graph nodes looked at when reading ComfyUI settings
_GRAPH_DEPTH = 64
_EXIF_GRAPH_TAGS = ("Model", "Make", "ImageDescription")  # where ComfyUI's WebP writer puts its graphs


@dataclass
class GenerationMetadata:
    """meta: CivitAI's `meta` keys (prompt, negativePrompt, steps, sampler, cfgScale, seed, Size,
    Model, clipSkip, ... and every other setting verbatim, plus `hashes` and `resources` as CivitAI
    adds them), or None when the image says nothing.
    resources: what the image names as used, [{kind, name, hash, weight}] (kind: checkpoint, lora,
    embedding, vae; hash and weight may be None; `civitai_version_id` when the image names a version
    id through `Civitai resources`), not yet linked to hub versions (resources.linking).
    workflow / prompt_graph: ComfyUI's UI graph and API graph as the raw text found, or None. The text
    may not be JSON (a damaged or hand-made file): show it as text then.
    source: "a1111", "comfyui", "novelai" or None.
    texts: every text found, by carrier key ("parameters", "Comment", "UserComment", ...), raw.
    """

    meta: dict | None = None
    resources: list[dict] = field(default_factory=list)
    workflow: str | None = None
    prompt_graph: str | None = None
    source: str | None = None
    texts: dict[str, str] = field(default_factory=dict)


def read_generation_metadata(f: BinaryIO) -> GenerationMetadata:
    """Everything the image carries about its generation; capped, never raises for the file's content."""
    try:
        return _read(f)
    except Exception:  # a reader bug must not turn a bad file into a 500; the image stays acceptable
        return GenerationMetadata()


def _read(f: BinaryIO) -> GenerationMetadata:
    f.seek(0)
    head = f.read(12)
    texts: dict[str, str] = {}
    if head.startswith(b"\x89PNG"):
        texts = images.image_text_chunks(f)
    elif head.startswith(b"GIF8"):
        comment = carriers.gif_comments(f)
        texts = {"Comment": comment} if comment else {}
    elif head.startswith(b"\xff\xd8\xff") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        texts = carriers.exif_texts(f)
    # Camera make and model are personal, not generation settings: kept only when they carry a graph.
    texts = {
        k: _clean(v)
        for k, v in texts.items()
        if k not in _EXIF_GRAPH_TAGS or v.startswith(("workflow:", "prompt:"))
    }
    result = GenerationMetadata(texts=texts)

    # ComfyUI: PNG chunks, or EXIF tags (Model/Make/ImageDescription) holding "prompt:" / "workflow:".
    result.workflow = texts.get("workflow")
    result.prompt_graph = texts.get("prompt")
    for key in _EXIF_GRAPH_TAGS:
        label, sep, rest = texts.get(key, "").partition(":")
        if sep and label in ("workflow", "prompt") and rest.lstrip().startswith("{"):
            if label == "workflow":
                result.workflow = result.workflow or rest
            else:
                result.prompt_graph = result.prompt_graph or rest

    parameters = texts.get("parameters") or texts.get("UserComment")
    if head.startswith(b"GIF8"):
        parameters = texts.get("Comment")
    if parameters and (meta := _clean_values(infotext.parse_infotext(parameters))):
        result.source = "a1111"
        hashes, result.resources = infotext.infotext_resources(meta)
        result.meta = meta
        _add_civitai_keys(meta, hashes, result.resources)
        if civitai := infotext.civitai_resources_list(meta.get("Civitai resources")):
            meta["civitaiResources"] = civitai
    elif texts.get("Software", "").strip() == "NovelAI" or _looks_like_novelai(texts):
        result.meta = _clean_values(_novelai_meta(texts))
        result.source = "novelai" if result.meta else None
    elif result.workflow or result.prompt_graph:
        result.source = "comfyui"
        meta, result.resources = _comfy_meta(result.prompt_graph)
        result.meta = meta = _clean_values(meta)
        if meta is not None:
            _add_civitai_keys(meta, {}, result.resources)
    for resource in result.resources:
        for key in ("name", "hash"):
            if isinstance(resource.get(key), str):
                resource[key] = _clean(resource[key])
    return result


def _add_civitai_keys(meta: dict, hashes: dict, resources: list[dict]) -> None:
    if hashes:
        meta["hashes"] = hashes
    if listed := infotext.civitai_resources(resources):
        meta["resources"] = listed


# NovelAI --------------------------------------------------------------------------------------------------

_NOVELAI_KEYS = {"steps": "steps", "sampler": "sampler", "scale": "cfgScale", "seed": "seed"}


def _looks_like_novelai(texts: dict) -> bool:
    return "Description" in texts and texts.get("Comment", "").lstrip().startswith("{")


def _novelai_meta(texts: dict) -> dict | None:
    """NovelAI PNG: the prompt in `Description`, settings as JSON in `Comment` (uc, steps, sampler,
    scale, seed, ...) → CivitAI's keys; other scalar settings kept verbatim."""
    comment = _json(texts.get("Comment"), max_depth=8)
    meta: dict = {}
    if isinstance(comment, dict):
        for key, value in list(comment.items())[: infotext.MAX_INFOTEXT_KEYS]:
            if not isinstance(value, str | int | float | bool) or value is None:
                continue
            if key == "uc":
                meta["negativePrompt"] = value
            elif key == "prompt":
                meta.setdefault("prompt", value)
            else:
                meta[_NOVELAI_KEYS.get(key, key)] = value
        if isinstance(comment.get("width"), int) and isinstance(comment.get("height"), int):
            meta["Size"] = f"{comment['width']}x{comment['height']}"
    if texts.get("Description"):
        meta["prompt"] = texts["Description"]
    if not meta:
        return None
    meta.setdefault("Model", "NovelAI")
    return meta


# ComfyUI --------------------------------------------------------------------------------------------------

_SAMPLERS = ("KSampler", "KSamplerAdvanced")
_LOADERS = {
    "CheckpointLoaderSimple": ("checkpoint", "ckpt_name", None),
    "CheckpointLoader": ("checkpoint", "ckpt_name", None),
    "UNETLoader": ("checkpoint", "unet_name", None),
    "LoraLoader": ("lora", "lora_name", "strength_model"),
    "LoraLoaderModelOnly": ("lora", "lora_name", "strength_model"),
    "VAELoader": ("vae", "vae_name", None),
}


def _comfy_meta(prompt_graph: str | None) -> tuple[dict | None, list[dict]]:
    """Settings and loaders from ComfyUI's API graph (docs/image-metadata.md#comfyui-and-meta): the
    first KSampler's seed, steps, cfg, sampler and scheduler, the texts its positive and negative
    inputs lead to, and the checkpoint, LoRA and VAE loaders' file names. Anything else: None."""
    graph = _json(prompt_graph, max_depth=_GRAPH_DEPTH)
    if not isinstance(graph, dict) or len(graph) > MAX_GRAPH_NODES:
        return None, []
    nodes = {str(k): v for k, v in graph.items() if isinstance(v, dict) and isinstance(v.get("inputs"), dict)}
    resources: list[dict] = []
    meta: dict = {}
    for node in nodes.values():
        loader = _LOADERS.get(node.get("class_type"))
        if loader is None or len(resources) >= infotext.MAX_RESOURCES:
            continue
        kind, name_key, weight_key = loader
        name = node["inputs"].get(name_key)
        if isinstance(name, str) and name.strip():
            weight = node["inputs"].get(weight_key) if weight_key else None
            resources.append(
                {
                    "kind": kind,
                    "name": name.strip()[:256],
                    "hash": None,
                    "weight": float(weight) if isinstance(weight, int | float) else None,
                }
            )
            if kind == "checkpoint":
                meta.setdefault("Model", name.strip()[:256])
    sampler = next((n for n in nodes.values() if n.get("class_type") in _SAMPLERS), None)
    if sampler is not None:
        inputs = sampler["inputs"]
        for src, dst, kind in (
            ("seed", "seed", int),
            ("noise_seed", "seed", int),
            ("steps", "steps", int),
            ("cfg", "cfgScale", float),
            ("sampler_name", "sampler", str),
            ("scheduler", "scheduler", str),
            ("denoise", "denoise", float),
        ):
            value = inputs.get(src)
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                try:
                    meta.setdefault(dst, kind(value))
                except (TypeError, ValueError):
                    pass
        for src, dst in (("positive", "prompt"), ("negative", "negativePrompt")):
            text = _text_behind(nodes, inputs.get(src))
            if text is not None:
                meta[dst] = text
    return (meta or None), resources


def _text_behind(nodes: dict, link, hops: int = 8) -> str | None:
    """Follow an input link ([node id, slot]) through conditioning nodes to a text encoder's text."""
    for _ in range(hops):
        if not (isinstance(link, list) and link and str(link[0]) in nodes):
            return None
        inputs = nodes[str(link[0])]["inputs"]
        for key in ("text", "text_g", "prompt"):
            if isinstance(inputs.get(key), str):
                return inputs[key]
        link = next(
            (inputs[k] for k in ("conditioning", "conditioning_1", "text", "positive") if k in inputs), None
        )
    return None


# Helpers --------------------------------------------------------------------------------------------------


def _json(text, *, max_depth: int):
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return bounded_json.loads(text, what="The embedded text", max_depth=max_depth)
    except (bounded_json.JSONRejected, ValueError, RecursionError):
        return None


def _clean(text: str) -> str:
    """Text the database accepts (docs/hostile-input.md item 5): no NUL, no lone surrogates."""
    text = text.replace("\0", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _clean_values(meta: dict | None) -> dict | None:
    """_clean on the strings of a meta dict (values decoded from JSON may hold \\u0000)."""
    if meta is None:
        return None
    return {_clean(k): _clean(v) if isinstance(v, str) else v for k, v in meta.items()}


def workflow_json(result: GenerationMetadata):
    """The parsed UI graph of `result` (depth-bounded), or None when there is none or it is not JSON:
    the caller then shows `result.workflow` as text."""
    return _json(result.workflow, max_depth=_GRAPH_DEPTH)
