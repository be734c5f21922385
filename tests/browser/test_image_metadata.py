"""Someone opens an image's page, copies its prompt from the metadata panel and follows a resource it
used to that model's page."""

import io

import pytest
from PIL import Image, PngImagePlugin

from models_app.models import FileType
from resources import images
from tests.factories import publish_model

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_with_settings(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    out = io.BytesIO()
    Image.new("RGB", (96, 64), "navy").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_copy_the_prompt_and_follow_a_linked_resource(page, live_server, creator, fan):
    version = publish_model(creator, name="Tiny Watercolor")
    sha = version.files.get(type=FileType.MODEL).blob.sha256
    text = (
        "a lighthouse at night, <lora:tiny:0.7>\nNegative prompt: lowres\n"
        f'Steps: 24, Sampler: Euler a, CFG scale: 6, Seed: 99, Size: 96x64, Lora hashes: "tiny: {sha[:12]}"'
    )
    image = images.add_image(owner=fan, name="night.png", content=io.BytesIO(png_with_settings(text)))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    page.goto(f"/images/{image.id}")
    panel = page.get_by_test_id("metadata-panel")
    assert panel.get_by_test_id("prompt").inner_text() == "a lighthouse at night, <lora:tiny:0.7>"
    panel.get_by_test_id("copy-prompt").click()
    page.wait_for_function("document.querySelector('[data-testid=copy-prompt]').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == "a lighthouse at night, <lora:tiny:0.7>"

    panel.get_by_test_id("resource-link").click()
    page.wait_for_url(f"**/models/{version.model_id}/**")
    assert page.locator("h1").inner_text() == "Tiny Watercolor"
    assert page.get_by_test_id("community-image").count() == 1  # the image shows under "made with"
