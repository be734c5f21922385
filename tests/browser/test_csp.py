"""The Content-Security-Policy holds on every main page without breaking any of them."""

import pytest

from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_policy_and_the_uploader_and_api_docs_still_work(page):
    user = make_user("csp-checker")
    model = make_model(user, name="Policy LoRA")
    version = model.versions.get()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append((page.url, message.text[:160]))
            if "Content Security Policy" in message.text
            else None
        ),
    )
    log_in(page, "csp-checker", PASSWORD)
    for path in ("/", "/models/", "/search/?q=policy", model.get_absolute_url(), "/user/csp-checker",
                 "/settings/api-keys", "/models/new"):  # fmt: skip
        response = page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
    page.goto(f"/models/{model.id}/versions/{version.id}/files")
    page.wait_for_selector(".uppy-Dashboard")  # Uppy starts from its own file, no inline script
    response = page.goto("/api/docs/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]  # no exception for Swagger
    page.wait_for_selector(".swagger-ui .opblock")  # Swagger UI starts from a served script
    # The page's own rules (static/css/swagger-page.css) apply: no inline <style> was needed.
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert violations == []
