"""Run by tests/compat/clients/test_civitapy.py with the python of a virtual environment holding civitapy.

Uses civitapy exactly as its README shows, against the hub named on the command line, parsing every
answer with civitapy's own pydantic models, and prints what it saw as one JSON line. No Django here.
"""

import asyncio
import hashlib
import json
import sys

from civitapy import CivitAIClient
from civitapy.client import AsyncPaginator
from civitapy.models import (
    Creator,
    CurrentUser,
    HashLookupResult,
    Image,
    Model,
    ModelVersion,
    TagItem,
)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest().upper()


async def collect(paginator) -> list:
    return [item async for item in paginator]


def main() -> None:
    base_url, token, download_dir, version_id, sha256 = sys.argv[1:6]
    client = CivitAIClient(base_url=base_url, token=token, download_dir=download_dir, retry_count=1)
    seen: dict = {}

    listed = client.models_list(limit=100)
    seen["models"] = [Model(**item).id for item in listed["items"]]
    seen["models_metadata"] = listed["metadata"]
    seen["models_by_cursor"] = [
        m.id for m in asyncio.run(collect(client.models_list_paginated_async(limit=1)))
    ]
    by_page = AsyncPaginator(client, "/models", Model, limit=1, page=1)
    seen["models_by_page"] = [m.id for m in asyncio.run(collect(by_page))]
    seen["lora_search"] = [
        Model(**item).name for item in client.models_list(query="watercolor", types=["LORA"])["items"]
    ]

    version = ModelVersion(**client.model_versions_get(int(version_id)))
    model = Model(**client.models_get(version.model_id))
    seen["version"] = {"id": version.id, "air": version.air, "files": [f.name for f in version.files]}
    seen["model"] = {"id": model.id, "name": model.name, "creator": model.creator.username}

    found = client.model_versions_by_hash(sha256)
    seen["by_hash"] = ModelVersion(**found).id if found else None
    seen["by_hash_lowercase"] = ModelVersion(**client.model_versions_by_hash(sha256.lower())).id
    seen["by_hash_missing"] = client.model_versions_by_hash("0" * 64)
    seen["by_hash_bulk"] = [
        ModelVersion(**v).id for v in client.model_versions_by_hash_bulk([sha256, "0" * 64])
    ]
    seen["by_hash_ids"] = [r.model_version_id for r in client.model_versions_by_hash_ids([sha256])]
    assert all(isinstance(r, HashLookupResult) for r in client.model_versions_by_hash_ids([sha256]))

    seen["tags"] = [TagItem(**t).name for t in client.tags_list(limit=200)["items"]]
    seen["creators"] = [Creator(**c).username for c in client.creators_list()["items"]]
    images = client.images_list(model_version_id=version.id, with_meta=True)["items"]
    seen["images"] = [
        {"id": i.id, "hash": i.hash, "prompt": i.meta.prompt if i.meta else None}
        for i in map(lambda d: Image(**d), images)
    ]
    seen["me"] = CurrentUser(**client.users_me()).username
    seen["enums"] = sorted(client.enums())

    paths = client.download_model_version(version.id, verify_hash=True)
    seen["downloads"] = {path.rsplit("/", 1)[-1]: sha256_of(path) for path in paths}
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
