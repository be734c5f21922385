"""The BlurHash `hash` civitapy requires on every image: computed by the worker, sent by the API."""

import random

import pytest

from compat.civitai import shapes
from models_app.files.images import blurhash_of_pixels
from resources.models import Image
from tests.factories import add_example_image

from .conftest import png, publish

pytestmark = pytest.mark.django_db


def test_the_encoder_matches_the_reference_implementation():
    # The same pixels through the `blurhash` package from PyPI (1.1.5) gave this string.
    rng = random.Random(5)
    pixels = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(17 * 11)]
    assert blurhash_of_pixels(pixels, 17, 11) == "LKHe:--;XRy5t:o{rr%2I1P1xmw4"
    assert blurhash_of_pixels([(128, 128, 128)] * 16, 4, 4) == shapes.PLACEHOLDER_BLURHASH


def test_the_worker_stores_a_blurhash_and_the_api_sends_it(client, creator, run_on_commit):
    version = publish(creator, run_on_commit)
    red = add_example_image(version, run_on_commit, name="red.png", content=png(color="red"))
    blue = add_example_image(version, run_on_commit, name="blue.png", content=png(color="blue"))
    hashes = {f.id: f.blurhash for f in (red, blue)}
    assert len(set(hashes.values())) == 2 and all(len(h) == 28 for h in hashes.values())
    sent = {i["id"]: i["hash"] for i in client.get("/api/v1/images").json()["items"]}
    assert sent == hashes
    # An image processed before the hub computed BlurHashes gets a valid placeholder.
    Image.objects.filter(id=red.id).update(blurhash="")
    sent = {i["id"]: i["hash"] for i in client.get(f"/api/v1/model-versions/{version.id}").json()["images"]}
    assert sent[red.id] == shapes.PLACEHOLDER_BLURHASH and sent[blue.id] == hashes[blue.id]
