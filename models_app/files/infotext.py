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
