"""A creator uploads a real model file through the wizard and watches it become ready."""

import hashlib
import os

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


def test_an_upload_interrupted_by_a_page_reload_resumes_without_resending_parts(page, tmp_path, settings):
    settings.UPLOAD_PART_SIZE = 5 * 1024 * 1024
    user = make_user("fay")
    model = make_model(user, publish=False)
    version = model.versions.get()
    payload = os.urandom(6 * settings.UPLOAD_PART_SIZE + 1234)  # 7 parts
    big = tmp_path / "training.zip.txt"
    big.write_bytes(payload)
    part_puts = []

    def count_part_puts(request):  # parts go to S3 (presigned) or to the hub's part endpoint
        if request.method == "PUT" and ("partNumber=" in request.url or "/api/hub/parts/" in request.url):
            part_puts.append(request.url)

    page.on("request", count_part_puts)
    log_in(page, "fay", PASSWORD)
    url = f"/models/{model.id}/versions/{version.id}/files"
    page.goto(url)
    page.wait_for_selector(".uppy-Dashboard")
    page.select_option("#file-type", "Training Data")
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    # Pause as soon as two parts are in, as a dropped connection or a closed tab would stop it.
    page.evaluate(
        """() => { window.twoParts = new Promise(resolve => { let n = 0;
             window.hubUppy.on('s3-multipart:part-uploaded', () => { n += 1; if (n === 2) {
               window.hubUppy.pauseAll(); resolve(); } }); }); }"""
    )
    page.locator(".uppy-StatusBar-actionBtn--upload").click()
    page.evaluate("window.twoParts")
    sent_before_reload = len(part_puts)
    assert 2 <= sent_before_reload < 7
    # Golden Retriever writes its state at most every 500 ms: wait until the open upload is on record,
    # as it is by the time a person reloads or closes the tab (an instant reload raced that write).
    upload_id = ModelFile.objects.get(name=big.name).multipart_upload_id
    page.wait_for_function(
        """id => Object.keys(localStorage).some(
             key => key.startsWith("uppyState:") && (localStorage.getItem(key) || "").includes(id))""",
        arg=upload_id,
    )

    page.reload()
    page.wait_for_selector(".uppy-Dashboard")
    part_puts.clear()
    # Golden Retriever remembers the upload; the browser can't keep 30 MiB, so it asks the creator to
    # pick the same file again, and Uppy asks the hub which parts already arrived.
    page.get_by_text("Session restored").wait_for()
    page.get_by_role("button", name="Re-select").click()
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    page.locator(".uppy-StatusBar-actionBtn--upload").click()
    ready = page.locator("#version-files tr", has_text=big.name).locator("[data-status=ready]")
    ready.wait_for(timeout=60_000)
    assert len(part_puts) <= 7 - 2, f"{len(part_puts)} parts sent again after the reload"
    model_file = ModelFile.objects.get(name=big.name)
    assert model_file.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()
    assert ModelFile.objects.filter(name=big.name).count() == 1
