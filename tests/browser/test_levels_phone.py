"""Content levels on a phone (375 px wide): a signed-in visitor picks their levels and "blur", an R
model then shows as a blurred card whose reveal button un-blurs it, without inline script and without
sideways scrolling (docs/moderation.md#nsfw-levels)."""

import pytest

from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_visitor_picks_levels_and_reveals_a_blurred_card(page, live_server):
    creator = make_user("hana")
    make_model(creator, name="Calm Lake")
    make_model(creator, name="Spicy Lake", nsfw_level=4)
    make_user("fan")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/models/")
    assert page.get_by_text("Calm Lake").is_visible() and page.get_by_text("Spicy Lake").count() == 0

    log_in(page, "fan", PASSWORD)
    page.goto("/models/")
    picker = page.get_by_test_id("level-picker")
    picker.locator("summary").click()
    picker.get_by_label("PG-13").check()
    picker.get_by_label("Blur the rest").check()
    picker.get_by_role("button", name="Save").click()
    page.wait_for_url("**/models/")
    assert page.get_by_text("Your content levels are saved.").is_visible()

    card = page.locator("article.model-card", has_text="Spicy Lake")
    assert "blurred" in card.get_attribute("class")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"
    reveal = card.get_by_role("button", name="Show this R model")
    assert reveal.is_visible()
    reveal.click()
    assert "blurred" not in card.get_attribute("class")
    assert card.get_by_role("button", name="Show this R model").count() == 0
    calm = page.locator("article.model-card", has_text="Calm Lake")
    assert "blurred" not in calm.get_attribute("class")
