"""A creator edits their model on its Edit page and removes an unfinished upload with its Remove button."""

import pytest

from models_app import services
from models_app.models import FileStatus, ModelFile
from tests.factories import PASSWORD, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_creator_edits_a_model_and_cancels_an_unfinished_upload(page, creator):
    version = publish_model(creator)
    upload = services.start_upload(version=version, by=creator, filename="half.safetensors", size=1000)
    log_in(page, creator.username, PASSWORD)

    page.goto(version.model.get_absolute_url())
    page.get_by_test_id("edit-model").click()
    page.fill("input[name=name]", "Tiny Gouache")
    page.fill("textarea[name=description]", "Thick **opaque** paint.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/models/*/tiny-gouache")
    assert page.locator("h1").inner_text() == "Tiny Gouache"
    assert page.locator(".description strong").inner_text() == "opaque"

    # The live status table keeps polling while the upload is unfinished; its rows keep the button.
    page.wait_for_timeout(2500)
    page.get_by_test_id(f"remove-{upload.id}").click()
    page.wait_for_url("**/models/*/tiny-gouache")
    assert "half.safetensors upload is cancelled." in page.locator("body").inner_text()
    assert page.get_by_test_id(f"remove-{upload.id}").count() == 0
    assert ModelFile.objects.get(id=upload.id).status == FileStatus.DELETED
    assert page.get_by_test_id(f"download-{version.files.get(status=FileStatus.READY).id}").count() == 1
