"""One date format for every API: UTC, milliseconds, ending in Z (docs/civitai-api.md#rules-for-every-endpoint).

huggingface_hub refuses `+00:00` (docs/hf-api.md#json), and CivitAI clients expect `2024-01-02T03:04:05.000Z`.
"""

from datetime import UTC, datetime


def iso_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
