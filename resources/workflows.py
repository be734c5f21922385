"""ComfyUI workflows: parse one (UI format 0.4 or 1, or API format), summarise it, resolve the models it
needs to hub versions (docs/workflows.md).

Everything in a workflow is untrusted: sizes, depth and counts are capped before any work that grows
with them, NaN/Infinity are refused, numbers are clamped, and filenames are only ever compared, never
used as paths. The parse gives a compact *layout* (what the SVG draws) and a *summary* (what the page,
the API and the upload pipeline show); both are plain JSON so the pipeline stores them on the file.
"""

from __future__ import annotations

import math
import re
from collections import deque
from pathlib import Path
from typing import BinaryIO

from models_app.files import bounded_json, genmeta

MAX_WORKFLOW_BYTES = 16 * 1024 * 1024  # ComfyUI's largest real workflows are a few MB
MAX_DEPTH = 64  # a UI workflow nests about 8 levels (subgraphs about 12); custom widgets a few more
MAX_NODES = 10_000
MAX_LINKS = 50_000
MAX_GROUPS = 1_000
MAX_MODELS = 500  # models listed in the summary
MAX_TEXT = 200  # characters of a title, type or filename kept
MAX_WIDGETS_SHOWN = 4
MAX_WIDGET_TEXT = 40
MAX_COORD = 1_000_000.0

MODEL_EXTENSIONS = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".onnx", ".pkl")
# docs/workflows.md#models-it-needs: (input name, widget index, folder) per core loader.
LOADERS: dict[str, list[tuple[str, int, str]]] = {
    **dict.fromkeys(
        ("CheckpointLoaderSimple", "unCLIPCheckpointLoader", "ImageOnlyCheckpointLoader"),
        [("ckpt_name", 0, "checkpoints")],
    ),
    "CheckpointLoader": [("config_name", 0, "configs"), ("ckpt_name", 1, "checkpoints")],
    **dict.fromkeys(("LoraLoader", "LoraLoaderModelOnly"), [("lora_name", 0, "loras")]),
    "VAELoader": [("vae_name", 0, "vae")],
    **dict.fromkeys(("ControlNetLoader", "DiffControlNetLoader"), [("control_net_name", 0, "controlnet")]),
    "UNETLoader": [("unet_name", 0, "diffusion_models")],
    "CLIPLoader": [("clip_name", 0, "text_encoders")],
    "DualCLIPLoader": [("clip_name1", 0, "text_encoders"), ("clip_name2", 1, "text_encoders")],
    "CLIPVisionLoader": [("clip_name", 0, "clip_vision")],
    "StyleModelLoader": [("style_model_name", 0, "style_models")],
    "GLIGENLoader": [("gligen_name", 0, "gligen")],
    "HypernetworkLoader": [("hypernetwork_name", 0, "hypernetworks")],
    "UpscaleModelLoader": [("model_name", 0, "upscale_models")],
    "ADE_LoadAnimateDiffModel": [("model_name", 0, "animatediff_models")],
}
_FALLBACK_INPUTS = {"ckpt_name", "model_name", "ipadapter_file"}
_EMBEDDING = re.compile(r"embedding:([^\s,()\[\]{}<>|]+)", re.IGNORECASE)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
_MUTED_MODES = {2, 4}  # muted, bypassed
_TEXT_NODES = {"CLIPTextEncode", "CLIPTextEncodeSDXL", "CLIPTextEncodeFlux", "CLIPTextEncodeSD3"}
_CORE_FILE = Path(__file__).with_name("comfy_core_nodes.txt")
CORE_NODE_TYPES = frozenset(
    line.strip() for line in _CORE_FILE.read_text().splitlines() if line.strip() and not line.startswith("#")
)


class WorkflowRejected(ValueError):
    """Not a workflow the hub accepts; the message says why in one sentence."""


# --- Reading -----------------------------------------------------------------------------------------


def read_workflow_text(f: BinaryIO) -> str | None:
    """The workflow JSON text in a file: a .json file's text, or a PNG/WebP's ComfyUI `workflow` chunk
    (else its `prompt` chunk). None when an image carries neither. Raises WorkflowRejected when the
    file is too large to be a workflow."""
    f.seek(0)
    head = f.read(16)
    f.seek(0)
    if head.startswith(b"\x89PNG") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        meta = genmeta.read_generation_metadata(f)
        if meta.workflow or meta.prompt_graph:
            return meta.workflow or meta.prompt_graph
        return _webp_exif_workflow(f) if head[:4] == b"RIFF" else None
    data = f.read(MAX_WORKFLOW_BYTES + 1)
    if len(data) > MAX_WORKFLOW_BYTES:
        raise WorkflowRejected(f"The workflow is over the hub's limit of {MAX_WORKFLOW_BYTES:,} bytes.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WorkflowRejected("The workflow is not UTF-8 text.") from None


def _webp_exif_workflow(f: BinaryIO) -> str | None:
    """ComfyUI's SaveAnimatedWEBP writes `workflow:<json>` into EXIF Make (0x010F) and `prompt:<json>`
    into Model (0x0110). The RIFF chunks are walked here (capped); only the EXIF chunk is read."""
    from PIL import Image

    f.seek(12)
    data = None
    for _ in range(1000):
        head = f.read(8)
        if len(head) < 8:
            return None
        size = int.from_bytes(head[4:], "little")
        if head[:4] == b"EXIF":
            if size > MAX_WORKFLOW_BYTES:
                raise WorkflowRejected(
                    f"The image's EXIF is over the hub's limit of {MAX_WORKFLOW_BYTES:,} bytes."
                )
            data = f.read(size)
            break
        f.seek(size + (size & 1), 1)
    if not data:
        return None
    data = data[6:] if data.startswith(b"Exif\x00\x00") else data
    exif = Image.Exif()
    try:
        exif.load(data)
        values = [exif.get(tag) for tag in (0x010F, 0x0110, 0x010E)]
    except Exception:  # a damaged EXIF block is no workflow; Pillow raises many kinds here
        return None
    texts = {}
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and ":" in value:
            key, _, rest = value.partition(":")
            texts.setdefault(key.strip().lower(), rest)
    return texts.get("workflow") or texts.get("prompt")


def parse_workflow(text: str | bytes) -> dict:
    """Parse workflow JSON into {"format", "layout", "summary"}; raises WorkflowRejected."""
    if len(text) > MAX_WORKFLOW_BYTES:
        raise WorkflowRejected(f"The workflow is over the hub's limit of {MAX_WORKFLOW_BYTES:,} bytes.")
    try:
        data = bounded_json.loads(text, what="The workflow", max_depth=MAX_DEPTH)
    except bounded_json.JSONRejected as exc:
        raise WorkflowRejected(str(exc)) from None
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        graph = _parse_ui(data)
    elif (
        isinstance(data, dict)
        and data
        and all(isinstance(v, dict) and "class_type" in v for v in data.values())
    ):
        graph = _parse_api(data)
    else:
        raise WorkflowRejected(
            "This JSON is not a ComfyUI workflow: it has neither a nodes list (UI format) "
            "nor nodes with a class_type (API format)."
        )
    return {"format": graph["format"], "layout": _layout(graph), "summary": _summary(graph)}


def _check_count(what: str, n: int, cap: int) -> None:
    if n > cap:
        raise WorkflowRejected(f"The workflow has {n:,} {what}; the hub accepts at most {cap:,}.")


def _text(value, limit: int = MAX_TEXT) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    text = (value if type(value) is str else str(value))[:limit]
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    return text.replace("\x00", "") if "\x00" in text else text


def _num(value, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return default
    if not isinstance(value, int | float):
        return default
    if isinstance(value, int):  # float() of a 400-digit int raises OverflowError
        return float(max(-MAX_COORD, min(MAX_COORD, value)))
    return max(-MAX_COORD, min(MAX_COORD, value)) if math.isfinite(value) else default


def _pair(value, default: tuple[float, float]) -> tuple[float, float]:
    """[x, y] or {"0": x, "1": y} (both occur in saved workflows)."""
    if isinstance(value, dict):
        value = [value.get("0", value.get(0)), value.get("1", value.get(1))]
    if isinstance(value, list | tuple) and len(value) >= 2:
        return _num(value[0], default[0]), _num(value[1], default[1])
    return default


def _node_id(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = _text(value, 64)
    return text or None


def _slot(value) -> int:
    try:
        return max(0, min(1000, int(value)))
    except (TypeError, ValueError, OverflowError):
        return 0


def _parse_ui(data: dict) -> dict:
    raw_nodes, raw_links, raw_groups = data.get("nodes"), data.get("links") or [], data.get("groups") or []
    _check_count("nodes", len(raw_nodes), MAX_NODES)
    raw_links = raw_links if isinstance(raw_links, list) else []
    raw_groups = raw_groups if isinstance(raw_groups, list) else []
    _check_count("links", len(raw_links), MAX_LINKS)
    _check_count("groups", len(raw_groups), MAX_GROUPS)
    nodes: dict[str, dict] = {}
    for raw in raw_nodes:
        if not isinstance(raw, dict):
            continue
        node_id = _node_id(raw.get("id"))
        if node_id is None or node_id in nodes:
            continue
        flags = raw.get("flags") if isinstance(raw.get("flags"), dict) else {}
        props = raw.get("properties") if isinstance(raw.get("properties"), dict) else {}
        widgets = raw.get("widgets_values")
        x, y = _pair(raw.get("pos"), (0.0, 0.0))
        w, h = _pair(raw.get("size"), (200.0, 80.0))
        node_type = _text(raw.get("type")) or "?"
        nodes[node_id] = {
            "id": node_id,
            "type": node_type,
            "title": _text(raw.get("title")) or _text(props.get("Node name for S&R")) or node_type,
            "x": x, "y": y, "w": max(40.0, w), "h": max(30.0, h),
            "mode": raw.get("mode") if isinstance(raw.get("mode"), int) else 0,
            "collapsed": bool(flags.get("collapsed")),
            "color": _colour(raw.get("color")),
            "bgcolor": _colour(raw.get("bgcolor")),
            "widgets": widgets if isinstance(widgets, list | dict) else [],
            "inputs": {},
            "properties": props,
        }  # fmt: skip
    links = []
    for raw in raw_links:
        if isinstance(raw, list) and len(raw) >= 5:
            src, src_slot, dst, dst_slot = raw[1], raw[2], raw[3], raw[4]
        elif isinstance(raw, dict):  # schema 1
            src, src_slot = raw.get("origin_id"), raw.get("origin_slot")
            dst, dst_slot = raw.get("target_id"), raw.get("target_slot")
        else:
            continue
        links.append((_node_id(src), _slot(src_slot), _node_id(dst), _slot(dst_slot)))
    groups = []
    for raw in raw_groups:
        if not isinstance(raw, dict) or not isinstance(raw.get("bounding"), list) or len(raw["bounding"]) < 4:
            continue
        b = raw["bounding"]
        groups.append(
            {
                "title": _text(raw.get("title")),
                "x": _num(b[0]),
                "y": _num(b[1]),
                "w": max(0.0, _num(b[2])),
                "h": max(0.0, _num(b[3])),
                "color": _colour(raw.get("color")),
            }  # fmt: skip
        )
    definitions = data.get("definitions") if isinstance(data.get("definitions"), dict) else {}
    subgraphs = definitions.get("subgraphs") if isinstance(definitions.get("subgraphs"), list) else []
    subgraph_ids = {_text(s.get("id")) for s in subgraphs[:MAX_GROUPS] if isinstance(s, dict)}
    return {
        "format": "ui",
        "version": 1 if data.get("version") == 1 else 0.4,
        "nodes": nodes,
        "links": links,
        "groups": groups,
        "models": data.get("models") if isinstance(data.get("models"), list) else [],
        "subgraph_ids": subgraph_ids - {""},
    }


def _parse_api(data: dict) -> dict:
    _check_count("nodes", len(data), MAX_NODES)
    nodes: dict[str, dict] = {}
    links = []
    for key, raw in data.items():
        node_id = _node_id(key)
        if node_id is None:
            continue
        inputs = raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {}
        meta = raw.get("_meta") if isinstance(raw.get("_meta"), dict) else {}
        literals = {}
        for slot, (name, value) in enumerate(inputs.items()):
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str | int):
                links.append((_node_id(value[0]), _slot(value[1]), node_id, slot))
            else:
                literals[_text(name, 64)] = value
        node_type = _text(raw.get("class_type")) or "?"
        nodes[node_id] = {
            "id": node_id,
            "type": node_type,
            "title": _text(meta.get("title")) or node_type,
            "x": 0.0, "y": 0.0, "w": 240.0,
            "h": 46.0 + 20 * min(len(literals), MAX_WIDGETS_SHOWN),
            "mode": 0, "collapsed": False, "color": "", "bgcolor": "",
            "widgets": literals, "inputs": literals, "properties": {},
        }  # fmt: skip
        _check_count("links", len(links), MAX_LINKS)
    _layered_layout(nodes, links)
    return {
        "format": "api",
        "nodes": nodes,
        "links": links,
        "groups": [],
        "models": [],
        "subgraph_ids": set(),
    }


def _layered_layout(nodes: dict[str, dict], links: list) -> None:
    """Place API-format nodes in columns by longest path from a source (Kahn's order; nodes on a
    cycle, which ComfyUI would refuse anyway, go after the rest), rows in order of appearance."""
    edges = [(s, d) for s, _, d, _ in links if s in nodes and d in nodes and s != d]
    indegree = dict.fromkeys(nodes, 0)
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for s, d in edges:
        out[s].append(d)
        indegree[d] += 1
    layer = dict.fromkeys(nodes, 0)
    queue = deque(n for n, deg in indegree.items() if deg == 0)
    seen = 0
    while queue:
        n = queue.popleft()
        seen += 1
        for d in out[n]:
            layer[d] = max(layer[d], layer[n] + 1)
            indegree[d] -= 1
            if indegree[d] == 0:
                queue.append(d)
    top = max(layer.values(), default=0)
    for n, deg in indegree.items():
        if deg > 0:  # on a cycle
            layer[n] = top + 1
    heights: dict[int, float] = {}
    for n, node in nodes.items():
        col = layer[n]
        node["x"] = col * 320.0
        node["y"] = heights.get(col, 0.0)
        heights[col] = node["y"] + node["h"] + 40


def _colour(value) -> str:
    return value if isinstance(value, str) and _COLOUR.match(value) else ""


# --- What it needs -----------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """The file part of a model name for matching: `illustrious\\wai.safetensors` → `wai.safetensors`."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()


def _is_model_file(value) -> bool:
    return isinstance(value, str) and value.strip().lower().endswith(MODEL_EXTENSIONS)


def _widget(node: dict, name: str, index: int):
    widgets = node["widgets"]
    if isinstance(widgets, dict):
        return widgets.get(name)
    return widgets[index] if 0 <= index < len(widgets) else None


def _needed_models(graph: dict) -> list[dict]:
    found: list[dict] = []
    seen: set[tuple] = set()

    def add(node_id, node_type, filename, kind, hash_=None):
        filename = _text(filename, 255).strip()
        key = (node_id, normalise_name(filename), kind)
        if not filename or key in seen or len(found) >= MAX_MODELS:
            return
        seen.add(key)
        entry = {"node_id": node_id, "node_type": node_type, "filename": filename, "kind": kind}
        if isinstance(hash_, str) and re.fullmatch(r"[0-9a-fA-F]{64}", hash_.strip()):
            entry["hash"] = hash_.strip().upper()
        found.append(entry)

    for node in graph["nodes"].values():
        if node["mode"] in _MUTED_MODES:
            continue
        node_type = node["type"]
        if node_type in LOADERS:
            for name, index, kind in LOADERS[node_type]:
                value = _widget(node, name, index)
                if node_type == "VAELoader" and not _is_model_file(value):
                    continue  # taesd, pixel_space: built in, not files
                if isinstance(value, str):
                    add(node["id"], node_type, value, kind)
        elif node_type in _TEXT_NODES:
            texts = node["widgets"].values() if isinstance(node["widgets"], dict) else node["widgets"]
            for text in texts:
                if isinstance(text, str):
                    for match in _EMBEDDING.findall(text[:100_000]):
                        add(node["id"], node_type, match.rstrip(".:;"), "embeddings")
        else:
            widgets = node["widgets"]
            if isinstance(widgets, dict):
                candidates = [v for k, v in widgets.items() if k.endswith("_name") or k in _FALLBACK_INPUTS]
            else:  # positional values: no names to go by, so the extension alone decides
                candidates = widgets[:64]
            for value in candidates:
                if _is_model_file(value):
                    add(node["id"], node_type, value, "unknown")
        props_models = node["properties"].get("models")
        for hint in props_models if isinstance(props_models, list) else []:
            if isinstance(hint, dict):
                add(
                    node["id"],
                    node_type,
                    hint.get("name"),
                    _text(hint.get("directory"), 64) or "unknown",
                    hint.get("hash"),
                )
    for hint in graph["models"][:MAX_MODELS]:
        if isinstance(hint, dict):
            add(None, None, hint.get("name"), _text(hint.get("directory"), 64) or "unknown", hint.get("hash"))
    # A hash given by a models[] hint applies to every use of that file.
    hashes = {normalise_name(m["filename"]): m["hash"] for m in found if m.get("hash")}
    for m in found:
        if "hash" not in m and normalise_name(m["filename"]) in hashes:
            m["hash"] = hashes[normalise_name(m["filename"])]
    return found


def _summary(graph: dict) -> dict:
    nodes = graph["nodes"]
    custom_types, packs = set(), set()
    for node in nodes.values():
        props = node["properties"]
        cnr = _text(props.get("cnr_id"), 100)
        aux = _text(props.get("aux_id"), 100)
        core = node["type"] in CORE_NODE_TYPES or cnr == "comfy-core" or node["type"] in graph["subgraph_ids"]
        if not core:
            custom_types.add(node["type"])
        if cnr and cnr != "comfy-core":
            packs.add(cnr)
        elif aux and not core:
            packs.add(aux)
    return {
        "format": graph["format"],
        "nodes": len(nodes),
        "links": sum(1 for s, _, d, _ in graph["links"] if s in nodes and d in nodes),
        "groups": len(graph["groups"]),
        "models": _needed_models(graph),
        "custom_node_types": sorted(custom_types),
        "custom_node_packs": sorted(packs),
    }


def _shown_widgets(node: dict) -> list[str]:
    widgets = node["widgets"]
    items = widgets.items() if isinstance(widgets, dict) else ((None, v) for v in widgets)
    shown = []
    for name, value in items:
        if isinstance(value, dict | list) or value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else _text(value, MAX_WIDGET_TEXT)
        shown.append(f"{_text(name, 24)}: {text}" if name else text)
        if len(shown) >= MAX_WIDGETS_SHOWN:
            break
    return shown


def _layout(graph: dict) -> dict:
    """What the SVG needs, compact: nodes [id, title, x, y, w, h, collapsed, colour, bgcolour,
    widgets, mode], links [src, src_slot, dst, dst_slot] (both ends present), groups."""
    nodes = graph["nodes"]
    return {
        "nodes": [
            [
                n["id"],
                n["title"],
                round(n["x"], 1),
                round(n["y"], 1),
                round(n["w"], 1),
                round(n["h"], 1),
                n["collapsed"],
                n["color"],
                n["bgcolor"],
                _shown_widgets(n),
                n["mode"],
                n["type"],
            ]  # fmt: skip
            for n in nodes.values()
        ],
        "links": [list(link) for link in graph["links"] if link[0] in nodes and link[2] in nodes],
        "groups": graph["groups"],
    }


# --- Resolving to hub versions -----------------------------------------------------------------------


def resolve_models(models: list[dict]) -> list[dict]:
    """Each needed model with `resolved`: {model_id, version_id, sha256} of a published, visible,
    downloadable hub file with that hash (first) or filename, else None. One query per kind of match."""
    from django.db.models import F
    from django.db.models.functions import Lower

    from models_app.models import FileStatus, FileType, ModelFile, PublishStatus, ScanStatus

    def published(queryset):
        return (
            queryset.filter(
                status=FileStatus.READY,
                scan_status=ScanStatus.CLEAN,
                blob__isnull=False,
                version__status=PublishStatus.PUBLISHED,
                version__model__status=PublishStatus.PUBLISHED,
            )
            .exclude(type=FileType.IMAGE)
            .order_by(F("version__published_at").asc(nulls_last=True), "version_id", "id")
        )

    def row(f):
        return {"model_id": f[1], "version_id": f[2], "sha256": f[3]}

    fields = ("version__model_id", "version_id", "blob__sha256")
    hashes = sorted({m["hash"] for m in models if m.get("hash")})
    by_hash: dict[str, dict] = {}
    if hashes:
        for f in published(ModelFile.objects.filter(blob__sha256__in=hashes)).values_list(
            "blob__sha256", *fields
        ):
            by_hash.setdefault(f[0], row(f))
    names = sorted({normalise_name(m["filename"]) for m in models} - {""})
    by_name: dict[str, dict] = {}
    if names:
        rows = published(
            ModelFile.objects.annotate(lower_name=Lower("name")).filter(lower_name__in=names)
        ).values_list("lower_name", *fields)
        for f in rows:
            by_name.setdefault(f[0], row(f))
    return [
        {**m, "resolved": by_hash.get(m.get("hash") or "") or by_name.get(normalise_name(m["filename"]))}
        for m in models
    ]


def summary_json(summary: dict) -> dict:
    """The API's shape of a workflow summary (GET /api/hub/versions/<id>/workflow, and `workflow` in
    GET /api/hub/images/<id>), its needed models resolved to hub versions."""
    models = [
        {k: m.get(k) for k in ("node_id", "node_type", "filename", "kind", "resolved")}
        for m in resolve_models(summary["models"])
    ]
    return {
        "format": summary["format"],
        "nodes": summary["nodes"],
        "links": summary["links"],
        "models": models,
        "custom_node_types": summary["custom_node_types"],
        "custom_node_packs": summary["custom_node_packs"],
    }


def summary_of_text(json_text: str | None) -> dict | None:
    """summary_json of raw workflow text (an image's `workflow` or `prompt` chunk), or None when there
    is none or it is not a workflow the hub reads."""
    if not json_text:
        return None
    try:
        return summary_json(parse_workflow(json_text)["summary"])
    except WorkflowRejected:
        return None


def graph_context(json_text: str) -> dict:
    """For templates/resources/workflows/_graph.html from raw workflow text (an image's `workflow`
    chunk, say): {"layout", "summary", "svg"} or {"error": sentence}."""
    from .workflow_svg import render_svg

    try:
        parsed = parse_workflow(json_text)
    except WorkflowRejected as exc:
        return {"error": str(exc)}
    summary = {**parsed["summary"], "models": resolve_models(parsed["summary"]["models"])}
    return {"layout": parsed["layout"], "summary": summary, "svg": render_svg(parsed["layout"])}


def workflow_of(files) -> tuple[object, dict] | tuple[None, None]:
    """(file, stored workflow) of the first ready file among `files` that carries one: the primary
    file first, then Workflow files, then the oldest."""
    ready = [f for f in files if f.status == "ready" and isinstance(f.metadata.get("workflow"), dict)]
    ready.sort(key=lambda f: (not f.is_primary, f.type != "Workflow", f.id))
    return (ready[0], ready[0].metadata["workflow"]) if ready else (None, None)
