"""A creator uploads a real model file through the wizard and watches it become ready."""

import hashlib

import pytest

from models_app import demo
from models_app.models import AIModel, FileStatus, ModelFile
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_a_lora_through_the_wizard_and_publish_it(page, tmp_path):
    make_user("dana")
    lora = tmp_path / "dana-style.safetensors"
    lora.write_bytes(demo.tiny_lora())
    log_in(page, "dana", PASSWORD)

    page.get_by_role("link", name="Upload").click()
    page.fill("input[name=name]", "Dana Style")
    page.select_option("select[name=type]", "LORA")
    page.fill("textarea[name=description]", "A **soft** style.")
    page.fill("input[name=tags]", "style, soft")
    page.get_by_role("button", name="Next: add a version").click()

    page.select_option("select[name=base_model]", "SD 1.5")
    page.fill("input[name=trained_words]", "danastyle")
    page.get_by_role("button", name="Next: upload files").click()

    page.wait_for_selector(".uppy-Dashboard")
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(lora))
    page.locator(".uppy-StatusBar-actionBtn--upload").click()

    ready = page.locator("#version-files tr", has_text="dana-style.safetensors").locator(
        "[data-status=ready]"
    )
    ready.wait_for(timeout=30_000)
    shown = page.locator("#version-files tr", has_text="dana-style.safetensors").locator("[data-sha256]")
    expected = hashlib.sha256(lora.read_bytes()).hexdigest().upper()
    assert shown.get_attribute("data-sha256") == expected

    page.get_by_test_id("publish").click()
    page.wait_for_url("**/models/*/dana-style")
    assert page.locator("h1").inner_text() == "Dana Style"
    model_file = ModelFile.objects.get(name="dana-style.safetensors")
    assert model_file.status == FileStatus.READY and model_file.blob.sha256 == expected
    assert AIModel.objects.get(name="Dana Style").status == "published"


def test_a_file_over_the_limit_is_refused_in_the_browser_before_uploading(page, tmp_path, settings):
    user = make_user("erin")
    model = make_model(user, publish=False)
    version = model.versions.get()
    settings.MAX_UPLOAD_SIZE = 1000
    big = tmp_path / "big.safetensors"
    big.write_bytes(b"\0" * 5000)
    log_in(page, "erin", PASSWORD)
    page.goto(f"/models/{model.id}/versions/{version.id}/files")
    page.wait_for_selector(".uppy-Dashboard")
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    page.get_by_text("exceeds maximum allowed size").first.wait_for(timeout=10_000)
    assert ModelFile.objects.filter(name="big.safetensors").count() == 0
