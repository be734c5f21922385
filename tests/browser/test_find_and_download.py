"""Someone looking for a model: search as they type, filter, open it, download a file, check its hash."""

import hashlib
import io
import re

import pytest
from django.core.management import call_command

from models_app.models import ModelFile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_filter_open_a_model_and_download_a_file_with_the_right_sha256(page):
    call_command("seed_demo", stdout=io.StringIO())

    page.goto("/")
    page.fill("header input[name=q]", "water")
    page.get_by_test_id("search-suggestions").get_by_role("link", name="Tiny Watercolor").wait_for()

    page.goto("/models/")
    page.locator("label.chip", has_text="VAE").locator("input").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/models/?*type=VAE*")
    assert page.locator(".model-card").count() == 1
    page.get_by_role("link", name="Tiny VAE").first.click()
    page.wait_for_url("**/models/*/tiny-vae")

    model_file = ModelFile.objects.get(name="tiny-vae.safetensors")
    with page.expect_download() as download_info:
        page.get_by_test_id(f"download-{model_file.id}").click()
    download = download_info.value
    assert download.suggested_filename == "tiny-vae.safetensors"
    with open(download.path(), "rb") as f:
        body = f.read()
    assert hashlib.sha256(body).hexdigest().upper() == model_file.blob.sha256
    model_file.version.refresh_from_db()
    assert model_file.version.download_count == 1


def test_a_login_required_download_sends_a_visitor_to_log_in_and_then_downloads(page, fan):
    """The creator asks for a login: clicking Download leads to the login page and, once logged
    in, straight back to the file."""
    from models_app.models import AIModel
    from tests.factories import PASSWORD

    call_command("seed_demo", stdout=io.StringIO())
    model = AIModel.objects.get(name="Tiny VAE")
    AIModel.objects.filter(id=model.id).update(require_login=True)
    model_file = ModelFile.objects.get(name="tiny-vae.safetensors")

    page.goto(model.get_absolute_url())
    assert "log in" in page.locator(".notice").inner_text()
    page.get_by_test_id(f"download-{model_file.id}").click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/api/download/models/"))
    page.fill("input[name=login]", fan.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_download() as download_info:
        page.locator("form button[type=submit]").last.click()
    download = download_info.value
    assert download.suggested_filename == "tiny-vae.safetensors"
    with open(download.path(), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest().upper() == model_file.blob.sha256
