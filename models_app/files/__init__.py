"""Pure readers of untrusted bytes: what a file is, whether it is safe, and its hashes.

Every module here takes bytes (or a file-like object) and returns plain values; none of them knows
the catalog, touches the database or imports an app (checked by import-linter, pyproject.toml), so
`resources/` and anything else can reuse them. Uploads are data: nothing here unpickles or executes.

- `hashing`: the six hashes tools look files up by, in one pass (docs/hashes.md)
- `safetensors`: the strict header reader (docs/safetensors.md)
- `detection`: model type, base model and precision from a header (docs/detection.md)
- `scanning`: format sniffing, zip checks and pickle scanning (docs/pickles.md)
- `clamav`: an optional ClamAV pass over a stream (docs/pickles.md)
- `images`: image checks, thumbnails, BlurHash, embedded text (docs/image-metadata.md)
- `infotext`: A1111/Forge generation settings (docs/image-metadata.md)
"""
