"""A creator on a phone (375 px wide) sees the bell count after a review and a follow, reads the
notifications page without sideways scrolling, follows one and marks the rest read."""

import pytest
from playwright.sync_api import expect

from community import follows, reviews
from tests.factories import PASSWORD, make_user, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_and_the_notifications_page_on_a_phone(page):
    creator, fan = make_user("ink_artist"), make_user("a_very_long_username_for_a_fan")
    version = publish_model(creator, name="Brush Strokes With A Rather Long Model Name")
    reviews.submit_review(fan, version, True, "Wonderfully_long_words_without_any_space_" * 4)
    follows.follow(follower=fan, target={"creator": creator})

    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, "ink_artist", PASSWORD)
    bell = page.get_by_test_id("notification-bell")
    expect(bell.get_by_test_id("notification-count")).to_have_text("2")
    bell.click()
    page.wait_for_url("**/notifications")
    items = page.get_by_test_id("notifications").locator("li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("a_very_long_username_for_a_fan started following you")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"

    items.nth(1).get_by_role("link").click()  # the review: marked read, then the model page
    expect(page.locator("h1")).to_contain_text("Brush Strokes")
    expect(page.get_by_test_id("notification-count")).to_have_text("1")
    page.get_by_test_id("notification-bell").click()
    page.get_by_test_id("mark-all-read").click()
    page.wait_for_url("**/notifications")
    expect(page.get_by_test_id("notification-count")).to_have_count(0)
    expect(page.get_by_test_id("mark-all-read")).to_have_count(0)
