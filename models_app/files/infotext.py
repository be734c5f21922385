"""The generation settings A1111 and Forge write into an image (the `parameters` text), read into
CivitAI's loose `meta` object: prompt, negativePrompt, the settings CivitAI names in camelCase
(steps, sampler, cfgScale, seed, clipSkip) and every other setting verbatim (docs/image-metadata.md#infotext).

The text comes from strangers: it is capped, split by a small state machine rather than a regex (so
no input can make it backtrack), and nothing here ever raises.
"""

import json

MAX_INFOTEXT = 1_000_000
MAX_INFOTEXT_LINES = 10_000
MAX_INFOTEXT_KEYS = 200
_META_KEYS = {
    "Steps": "steps",
    "Sampler": "sampler",
    "CFG scale": "cfgScale",
    "Seed": "seed",
    "Clip skip": "clipSkip",
}
_NUMBERS = {"steps": int, "seed": int, "clipSkip": int, "cfgScale": float}


def _split_params(line: str) -> list[tuple[str, str]]:
    """`key: value, key: value` split on top-level ", " only: JSON strings and {} / [] stay whole."""
    pairs, depth, quoted, escaped, start = [], 0, False, False, 0
    parts = []
    for i, ch in enumerate(line):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(line[start:i])
            start = i + 1
    parts.append(line[start:])
    for part in parts[:MAX_INFOTEXT_KEYS]:
        key, sep, value = part.strip().partition(":")
        if key.strip():
            pairs.append((key.strip(), value.strip() if sep else key.strip()))
    return pairs


def parse_infotext(text: str) -> dict | None:
    """A1111/Forge `parameters` text as CivitAI's meta: prompt, negativePrompt, the numbers CivitAI
    names in camelCase, and every other setting verbatim. Capped; never raises."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INFOTEXT:
        return None
    lines = text.strip().split("\n")[:MAX_INFOTEXT_LINES]
    meta: dict = {}
    params = _split_params(lines[-1]) if len(lines) > 1 or ":" in lines[-1] else []
    if len(params) >= 3:
        lines = lines[:-1]
        for key, value in params:
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            name = _META_KEYS.get(key, key)
            if name in _NUMBERS:
                try:
                    value = _NUMBERS[name](value)
                except (TypeError, ValueError):
                    pass
            meta[name] = value
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            negative.append(line[len("Negative prompt:") :].strip())
        elif in_negative:
            negative.append(line)
        else:
            prompt.append(line)
    meta["prompt"] = "\n".join(prompt).strip()
    if negative:
        meta["negativePrompt"] = "\n".join(negative).strip()
    return meta


# What the infotext says was used (docs/image-metadata.md#resources-named-by-an-image) -----------------

MAX_RESOURCES = 100  # resources listed per image; more are dropped
MAX_HASHES_JSON = 64 * 1024  # characters of a `Hashes: {...}` value that are parsed
MAX_TAGS_SCANNED = 1_000  # `<...>` openings looked at in one prompt
_MAX_NAME = 256
_MAX_HASH = 128
_HASH_PREFIXES = {"model": "checkpoint", "vae": "vae", "lora": "lora", "lyco": "lora", "embed": "embedding"}
# CivitAI's `meta.resources[].type` for each kind (it calls a checkpoint "model").
CIVITAI_TYPES = {"checkpoint": "model", "lora": "lora", "embedding": "embed", "vae": "vae"}


def _name(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:_MAX_NAME] or None


def _hash(value) -> str | None:
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text[:_MAX_HASH] or None


def hash_list(value) -> list[tuple[str, str]]:
    """`Lora hashes` / `TI hashes`: "name: hash, name2: hash2" (already unquoted) → [(name, hash)]."""
    if not isinstance(value, str):
        return []
    pairs = []
    for item in value[:MAX_HASHES_JSON].split(",")[:MAX_RESOURCES]:
        name, sep, digest = item.partition(":")
        if sep and _name(name) and _hash(digest):
            pairs.append((_name(name), _hash(digest)))
    return pairs


def hashes_json(value) -> dict[str, str]:
    """The unquoted `Hashes: {"model": "…", "lora:x": "…"}` object → {key: hash}; {} if it is not one."""
    if isinstance(value, dict):
        data = value
    elif isinstance(value, str) and len(value) <= MAX_HASHES_JSON and value.lstrip().startswith("{"):
        try:
            data = json.loads(value, parse_constant=lambda _c: None)
        except (ValueError, RecursionError):
            return {}
    else:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k)[:_MAX_NAME]: _hash(v) for k, v in list(data.items())[:MAX_RESOURCES] if _hash(v)}


def prompt_tags(prompt) -> list[tuple[str, str, float | None]]:
    """`<lora:name:weight>` and `<lyco:name:weight>` tags → [(kind, name, weight)]. The weight is the
    first number after the name (`<lora:x:0.8:0.5>` gives 0.8), 1.0 when absent, None if unreadable.
    A scan with str.find: no regular expression runs over the prompt."""
    if not isinstance(prompt, str):
        return []
    tags, pos = [], 0
    for _ in range(MAX_TAGS_SCANNED):
        start = prompt.find("<", pos)
        if start < 0:
            break
        end = prompt.find(">", start + 1, start + 2 + _MAX_NAME + 64)
        pos = start + 1
        if end < 0:
            continue
        kind, _, rest = prompt[start + 1 : end].partition(":")
        if kind.strip().lower() not in ("lora", "lyco") or not rest:
            continue
        name, _, weights = rest.partition(":")
        weight: float | None = 1.0
        if weights:
            try:
                weight = float(weights.partition(":")[0])
            except ValueError:
                weight = None
        if _name(name):
            tags.append(("lora", _name(name), weight))
        pos = end + 1
    return tags


def infotext_resources(meta: dict) -> tuple[dict[str, str], list[dict]]:
    """From a parsed infotext: CivitAI's `hashes` ({"model": h, "vae": h, "lora:x": h, "embed:x": h})
    and the resources the image names, [{kind, name, hash, weight}], merged by kind and name (a
    `<lora:x:0.8>` tag and `Lora hashes: "x: …"` are one LoRA). Never raises."""
    hashes: dict[str, str] = {}
    found: dict[tuple[str, str], dict] = {}

    def add(kind: str, name: str | None, digest: str | None = None, weight: float | None = None):
        key = (kind, (name or digest or "").lower())
        if not key[1] or (key not in found and len(found) >= MAX_RESOURCES):
            return
        entry = found.setdefault(key, {"kind": kind, "name": name, "hash": None, "weight": None})
        entry["name"] = entry["name"] or name
        entry["hash"] = entry["hash"] or digest
        if weight is not None:
            entry["weight"] = weight

    try:
        model_hash = _hash(meta.get("Model hash"))
        if model_hash or _name(meta.get("Model")):
            add("checkpoint", _name(meta.get("Model")), model_hash)
            if model_hash:
                hashes["model"] = model_hash
        vae_hash = _hash(meta.get("VAE hash"))
        if vae_hash:
            add("vae", _name(meta.get("VAE")), vae_hash)
            hashes["vae"] = vae_hash
        for kind, name, weight in prompt_tags(meta.get("prompt")):
            add(kind, name, weight=weight)
        for name, digest in hash_list(meta.get("Lora hashes")):
            add("lora", name, digest)
            hashes[f"lora:{name}"] = digest
        for name, digest in hash_list(meta.get("TI hashes")):
            add("embedding", name, digest)
            hashes[f"embed:{name}"] = digest
        for key, digest in hashes_json(meta.get("Hashes")).items():
            prefix, _, name = key.partition(":")
            kind = _HASH_PREFIXES.get(prefix.strip().lower())
            if kind is None:
                continue
            if kind in ("checkpoint", "vae"):
                name = _name(meta.get("Model" if kind == "checkpoint" else "VAE"))
                # One checkpoint and one VAE per image: attach to the entry the infotext already named.
                existing = next((e for (k, _), e in found.items() if k == kind), None)
                if existing is not None:
                    existing["hash"] = existing["hash"] or digest
                    hashes.setdefault(prefix, digest)
                    continue
            add(kind, _name(name), digest)
            hashes.setdefault(key if kind not in ("checkpoint", "vae") else prefix, digest)
        for item in civitai_resources_list(meta.get("Civitai resources")):
            version_id = item.get("modelVersionId")
            kind = _CIVITAI_KINDS.get(str(item.get("type", "")).lower(), "checkpoint")
            key = ("civitai", str(version_id))
            if key in found or len(found) >= MAX_RESOURCES:
                continue
            weight = item.get("weight")
            found[key] = {
                "kind": kind,
                "name": _name(item.get("modelName")),
                "hash": None,
                "weight": float(weight)
                if isinstance(weight, int | float) and not isinstance(weight, bool)
                else None,
                "civitai_version_id": version_id,
            }
    except Exception:  # a meta of unexpected shape: what was gathered so far
        pass
    return hashes, list(found.values())


_CIVITAI_KINDS = {
    "checkpoint": "checkpoint",
    "lora": "lora",
    "lycoris": "lora",
    "embed": "embedding",
    "embedding": "embedding",
    "textualinversion": "embedding",
    "vae": "vae",
}


def civitai_resources_list(value) -> list[dict]:
    """`Civitai resources: [{"type": …, "modelVersionId": …, "weight": …}]` (CivitAI's generator writes
    it unquoted) → the entries with an integer `modelVersionId`; [] for anything else."""
    if isinstance(value, str) and len(value) <= MAX_HASHES_JSON and value.lstrip().startswith("["):
        try:
            value = json.loads(value, parse_constant=lambda _c: None)
        except (ValueError, RecursionError):
            return []
    if not isinstance(value, list):
        return []
    return [
        item
        for item in value[:MAX_RESOURCES]
        if isinstance(item, dict)
        and isinstance(item.get("modelVersionId"), int)
        and not isinstance(item.get("modelVersionId"), bool)
        and 0 < item["modelVersionId"] < 2**31
    ]


def civitai_resources(resources: list[dict]) -> list[dict]:
    """`meta.resources` as CivitAI writes it: [{type, name, weight, hash}] (type "model" for a checkpoint).
    Entries that come from `Civitai resources` are left out: CivitAI keeps those in `civitaiResources`."""
    return [
        {
            "type": CIVITAI_TYPES.get(r["kind"], r["kind"]),
            "name": r["name"],
            **({"weight": r["weight"]} if r.get("weight") is not None else {}),
            **({"hash": r["hash"]} if r.get("hash") else {}),
        }
        for r in resources
        if "civitai_version_id" not in r
    ]
