"""An upload started in one browser is resumed in another (issue 12): the same file picked again is
offered for resume, only the missing parts are sent, and parts that differ from the file are replaced."""

import hashlib
import os

import pytest

from models_app.models import FileStatus, ModelFile
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PART = 5 * 1024 * 1024  # Uppy's smallest part


def part_puts(page) -> list:
    """Record every part the page sends: to S3 (presigned) or to the hub's part endpoint."""
    sent = []

    def record(request):
        if request.method == "PUT" and ("partNumber=" in request.url or "/api/hub/parts/" in request.url):
            sent.append(request.url)

    page.on("request", record)
    return sent


def start_and_stop_after_two_parts(browser, live_server, url: str, path) -> None:
    """The first browser: log in, start the upload, stop after two parts (a laptop closed), forget it."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, "gus", PASSWORD)
    page.goto(url)
    page.wait_for_selector(".uppy-Dashboard")
    page.select_option("#file-type", "Training Data")
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(path))
    page.evaluate(
        """() => { window.twoParts = new Promise(resolve => { let n = 0;
             window.hubUppy.on('s3-multipart:part-uploaded', () => { n += 1; if (n === 2) {
               window.hubUppy.pauseAll(); resolve(); } }); }); }"""
    )
    page.locator(".uppy-StatusBar-actionBtn--upload").click()
    page.evaluate("window.twoParts")
    context.close()


def resume_in_a_fresh_browser(page, url: str, path, answer: str = "Resume", upload_first=False) -> list:
    sent = part_puts(page)
    log_in(page, "gus", PASSWORD)
    page.goto(url)
    page.wait_for_selector(".uppy-Dashboard")
    page.select_option("#file-type", "Training Data")
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(path))
    offer = page.get_by_test_id("resume-offer")
    offer.wait_for()
    assert f"Resume the unfinished upload of {path.name} (" in offer.inner_text()
    assert "% uploaded)?" in offer.inner_text()
    if upload_first:  # pressing Upload before answering starts the upload once answered
        page.locator(".uppy-StatusBar-actionBtn--upload").click()
        page.get_by_text("Choose Resume or Start over above").wait_for()
        offer.get_by_role("button", name=answer).click()
    else:
        offer.get_by_role("button", name=answer).click()
        page.locator(".uppy-StatusBar-actionBtn--upload").click()
    page.locator("#version-files tr", has_text=path.name).locator("[data-status=ready]").wait_for(
        timeout=60_000
    )
    return sent


@pytest.fixture
def setup(tmp_path, settings):
    settings.UPLOAD_PART_SIZE = PART
    user = make_user("gus")
    model = make_model(user, publish=False)
    version = model.versions.get()
    return f"/models/{model.id}/versions/{version.id}/files", tmp_path


def test_an_upload_started_in_one_browser_is_resumed_in_another_and_downloads_intact(
    browser, live_server, page, setup
):
    url, tmp_path = setup
    payload = os.urandom(6 * PART + 4321)  # 7 parts
    big = tmp_path / "dataset.zip.txt"
    big.write_bytes(payload)
    start_and_stop_after_two_parts(browser, live_server, url, big)
    upload = ModelFile.objects.get(name=big.name)
    assert upload.status == FileStatus.UPLOADING

    sent = resume_in_a_fresh_browser(page, url, big)

    assert 1 <= len(sent) <= 7 - 2, f"{len(sent)} parts sent in the second browser"
    assert ModelFile.objects.filter(name=big.name).count() == 1  # the same upload, finished
    download = page.locator("#version-files tr", has_text=big.name).locator("a.download")
    response = page.request.get(download.get_attribute("href"))
    assert response.ok
    assert hashlib.sha256(response.body()).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_parts_of_another_file_with_the_same_name_and_size_are_sent_again(browser, live_server, page, setup):
    url, tmp_path = setup
    first = tmp_path / "a" / "notes.zip.txt"
    second = tmp_path / "b" / "notes.zip.txt"
    for path in (first, second):
        path.parent.mkdir()
    first.write_bytes(os.urandom(3 * PART + 99))
    payload = os.urandom(3 * PART + 99)  # same name and size, other bytes
    second.write_bytes(payload)
    start_and_stop_after_two_parts(browser, live_server, url, first)

    sent = resume_in_a_fresh_browser(page, url, second)

    assert len(sent) == 4  # every part: the two stored ones differ from this file
    model_file = ModelFile.objects.get(name=second.name)
    assert model_file.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()


def test_starting_over_cancels_the_unfinished_upload_and_sends_the_whole_file(
    browser, live_server, page, setup
):
    url, tmp_path = setup
    payload = os.urandom(3 * PART + 5)
    path = tmp_path / "again.zip.txt"
    path.write_bytes(payload)
    start_and_stop_after_two_parts(browser, live_server, url, path)
    old = ModelFile.objects.get(name=path.name)

    sent = resume_in_a_fresh_browser(page, url, path, answer="Start over", upload_first=True)

    assert len(sent) == 4
    assert not ModelFile.objects.filter(id=old.id).exists()  # cancelled, its parts deleted
    [new] = ModelFile.objects.filter(name=path.name)
    assert new.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()
