"""CivitAI's public API v1 (docs/civitai-api.md): `views` parse requests, `shapes` builds its JSON
objects from the hub's rows, `urls` mounts them under /api/v1/."""
