"""A model page kept for anonymous visitors (models_app/page_cache.py) works in a real browser: the
second visitor gets the kept page with their own CSRF token, and its language switcher takes them
to the French page. A creator's page, kept for them alone, shows what they just posted at once."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_second_visitor_gets_the_kept_page_and_its_switcher_works(
    browser, live_server, base_models, pages_kept
):
    url = make_model(make_user("margot"), name="Aquarelle douce").get_absolute_url()
    contexts = [browser.new_context(base_url=live_server.url) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        first.goto(url)
        second.goto(url)
        tokens = [
            p.locator("input[name=csrfmiddlewaretoken]").get_attribute("value") for p in (first, second)
        ]
        assert tokens[0] and tokens[1] and tokens[0] != tokens[1]

        second.get_by_test_id("language-switcher").get_by_role("button", name="FR").click()
        second.wait_for_url(f"**{url}")
        expect(second.locator("html")).to_have_attribute("lang", "fr")
        expect(second.get_by_role("heading", name="Autorisations")).to_be_visible()
        first.reload()
        expect(first.locator("html")).to_have_attribute("lang", "en")  # the first visitor's page
    finally:
        for context in contexts:
            context.close()


def test_the_creators_own_page_kept_for_them_shows_what_they_just_did(page, pages_kept):
    """The creator's page is kept for them alone (page_cache.keep_own); what they post through the
    page's scripts changes their browser's wrote cookie, so a reload shows it at once."""
    creator = make_user("margot")
    url = make_model(creator, name="Aquarelle douce").get_absolute_url()
    log_in(page, "margot", PASSWORD)
    page.goto(url)
    page.reload()  # the page kept for her
    expect(page.get_by_test_id("comments").get_by_test_id("no-comments")).to_be_visible()

    page.get_by_label("Add a comment").fill("Version 2 is coming")
    page.get_by_test_id("post-comment").click()  # posted by comments.js, no reload
    expect(page.get_by_test_id("comment-status")).to_have_text("Your comment is posted.")
    page.reload()
    expect(page.get_by_test_id("comment").first.get_by_test_id("comment-body")).to_have_text(
        "Version 2 is coming"
    )
    page.get_by_test_id("comment").first.get_by_test_id("react-heart").first.click()
    expect(page.get_by_test_id("comment").first.get_by_test_id("react-heart").first).to_have_attribute(
        "aria-pressed", "true"
    )
    page.reload()
    heart = page.get_by_test_id("comment").first.get_by_test_id("react-heart").first
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart.get_by_test_id("reaction-count")).to_have_text("1")
