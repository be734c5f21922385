"""The model page on a phone (375 px wide): the Download button stays visible and works, and the copy
buttons put the file's hashes on the clipboard (issue 12)."""

import hashlib

import pytest

from tests.factories import make_model, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_the_download_button_is_visible_and_the_sha256_can_be_copied(page, live_server):
    model = make_model(make_user("hana"))
    model_file = model.versions.get().files.get()
    sha = model_file.blob.sha256
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(model.get_absolute_url())

    button = page.get_by_test_id(f"download-{model_file.id}")
    button.scroll_into_view_if_needed()
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"
    assert page.locator(f"code[data-sha256='{sha}']").inner_text() == sha  # the whole hash is shown
    assert page.get_by_text("Detected: LoRA for SD 1.5").is_visible()

    copy = page.get_by_role("button", name="Copy the SHA256 of tiny.safetensors")
    assert copy.get_attribute("data-copy") == sha
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == sha
    page.get_by_role("button", name="Copy the AutoV2 of tiny.safetensors").click()
    assert page.evaluate("navigator.clipboard.readText()") == sha[:10]

    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == "tiny.safetensors"
    with open(download.path(), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest().upper() == sha
