"""Link the resources an image names to hub versions by hash (docs/images.md#resources).

A minimal stand-in until resources/linking.py arrives: AutoV2 (10 hex) for checkpoints and VAEs,
SHA256[:12] or AutoV3[:12] for LoRAs and embeddings, through models_app's hash lookup (the same
rules as /api/v1/model-versions/by-hash). Only versions anyone may see are linked.
"""

import re

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from models_app import downloads
from models_app.models import ContentBlob

_HEX = re.compile(r"[0-9A-Fa-f]{8,64}")
_NAMED_HASHES = (("Lora hashes", "lora"), ("TI hashes", "embedding"))


def _pairs(text: str) -> list[tuple[str, str]]:
    """'name: hash, name2: hash2' (A1111's Lora hashes / TI hashes) as pairs."""
    pairs = []
    for part in str(text).strip().strip('"').split(","):
        name, _, value = part.partition(":")
        if _HEX.fullmatch(value.strip()):
            pairs.append((name.strip(), value.strip()))
    return pairs[:50]


def resources_from_meta(meta: dict | None) -> list[dict]:
    """The resources an A1111 `meta` names by hash: [{kind, name, hash, weight}]."""
    if not isinstance(meta, dict):
        return []
    found = []
    if _HEX.fullmatch(str(meta.get("Model hash", ""))):
        found.append({"kind": "checkpoint", "name": str(meta.get("Model", "")), "hash": meta["Model hash"]})
    if _HEX.fullmatch(str(meta.get("VAE hash", ""))):
        found.append({"kind": "vae", "name": str(meta.get("VAE", "")), "hash": meta["VAE hash"]})
    for key, kind in _NAMED_HASHES:
        for name, value in _pairs(meta.get(key, "")):
            found.append({"kind": kind, "name": name, "hash": value})
    weights = {}
    for name, weight in re.findall(r"<lora:([^:>]+):([-0-9.]+)>", str(meta.get("prompt", ""))):
        try:
            weights[name] = float(weight)
        except ValueError:
            pass
    for item in found:
        item.setdefault("weight", weights.get(item["name"]) if item["kind"] == "lora" else None)
    return found


def resolve(resources: list[dict]) -> list[dict]:
    """Each resource with `resolved`: {model_id, version_id, sha256} of the public version holding a
    file with that hash, or None; and `matched_by` naming the hash form that matched."""
    anonymous = AnonymousUser()
    out = []
    for item in resources:
        value = downloads.normalize_hash(item.get("hash") or "")
        version = downloads.find_version_by_hash(anonymous, value) if value else None
        resolved, matched_by = None, ""
        if version is not None:
            match = Q(sha256__startswith=value) | Q(autov3__startswith=value)
            blob = ContentBlob.objects.filter(match, files__version=version).first()
            resolved = {"model_id": version.model_id, "version_id": version.id,
                        "sha256": blob.sha256 if blob else None}  # fmt: skip
            matched_by = {10: "AutoV2", 12: "SHA256[:12] or AutoV3[:12]", 64: "SHA256"}.get(
                len(value), "hash"
            )
        out.append({**item, "resolved": resolved, "matched_by": matched_by})
    return out
