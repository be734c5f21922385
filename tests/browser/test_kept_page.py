"""A model page kept for anonymous visitors (models_app/page_cache.py) works in a real browser: the
second visitor gets the kept page with their own CSRF token, and its language switcher takes them
to the French page."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_model, make_user

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
