"""The Hugging Face Hub read API (docs/hf-api.md): `repos` maps models and versions to repos and
commits, `views` answer huggingface_hub's requests, `urls` mounts them (resolve last)."""
