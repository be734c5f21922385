"""A fan follows a creator from their profile and sees the creator's new version in /feed/."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_follow_a_creator_and_see_their_new_version_in_the_feed(page):
    creator = make_user("ink_artist")
    make_user("fan")
    log_in(page, "fan", PASSWORD)

    page.get_by_role("link", name="Feed").click()
    page.wait_for_url("**/feed/")
    page.get_by_text("Follow creators or models to see their new versions and images here").wait_for()

    page.goto("/user/ink_artist")
    follow = page.get_by_test_id("follow-user")
    expect(follow.get_by_test_id("follower-count")).to_have_text("0 followers")
    follow.get_by_role("button", name="Follow").click()
    page.wait_for_url("**/user/ink_artist")
    expect(follow.get_by_test_id("follower-count")).to_have_text("1 follower")
    expect(follow.get_by_role("button", name="Unfollow")).to_be_visible()

    publish_model(creator, name="Brush Strokes")  # a new version after the follow

    page.get_by_role("link", name="Feed").click()
    feed = page.get_by_test_id("feed")
    expect(feed).to_contain_text("New version: Brush Strokes v1.0 by ink_artist")
    feed.get_by_role("link", name="Brush Strokes v1.0").click()
    expect(page.locator("h1")).to_contain_text("Brush Strokes")
