"""What an image says about how it was made: one entry point for every carrier (docs/image-metadata.md).

`read_generation_metadata(f)` is what the pipeline and resources call. Today it reads A1111/Forge
`parameters` and ComfyUI `prompt`/`workflow` text from PNG chunks (images.image_text_chunks); EXIF
UserComment (JPEG, WebP), NovelAI and the resources list arrive with issue 13. Pure: imports no app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from . import images, infotext


@dataclass
class GenerationMetadata:
    """meta: CivitAI's `meta` keys (prompt, negativePrompt, steps, sampler, cfgScale, seed, Size,
    Model, clipSkip, ... and every other setting verbatim), or None when the image says nothing.
    resources: what the image names as used, [{kind, name, hash, weight}] (kind: checkpoint, lora,
    embedding, vae, ...; hash and weight may be None), not yet linked to hub versions.
    workflow / prompt_graph: ComfyUI's UI graph and API graph as the raw JSON text found, or None.
    source: "a1111", "comfyui", "novelai" or None.
    """

    meta: dict | None = None
    resources: list[dict] = field(default_factory=list)
    workflow: str | None = None
    prompt_graph: str | None = None
    source: str | None = None


def read_generation_metadata(f: BinaryIO) -> GenerationMetadata:
    """Everything the image carries about its generation; capped, never raises for the file's content."""
    texts = images.image_text_chunks(f)
    result = GenerationMetadata(workflow=texts.get("workflow"), prompt_graph=texts.get("prompt"))
    if texts.get("parameters"):
        result.meta = infotext.parse_infotext(texts["parameters"])
        result.source = "a1111" if result.meta else None
    elif result.workflow or result.prompt_graph:
        result.source = "comfyui"
    return result
