"""A fan adds a model to their favourites from its page and finds it in Favourites; then writes a bio
on /settings/profile and sees it on their profile page, on a phone-sized screen (docs/collections.md,
docs/profiles.md)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_favourite_a_model_from_its_page_and_see_it_in_favourites(page):
    creator = make_user("ink_artist")
    version = publish_model(creator, name="Brush Strokes")
    make_user("fan")
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "fan", PASSWORD)

    page.goto(version.model.get_absolute_url())
    collect = page.get_by_test_id("collect-model")
    expect(collect.get_by_test_id("like-count")).to_have_text("0 favourites")
    collect.get_by_test_id("favourite-button").click()
    expect(collect.get_by_test_id("favourite-button")).to_contain_text("In your favourites")
    expect(collect.get_by_test_id("like-count")).to_have_text("1 favourite")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.goto("/collections/")
    page.get_by_test_id("my-collections").get_by_role("link", name="Favourites").click()
    expect(page.get_by_test_id("collection-name")).to_contain_text("Favourites")
    expect(page.get_by_test_id("collection-items")).to_contain_text("Brush Strokes")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_edit_the_bio_and_see_it_on_the_profile_page(page):
    make_user("fan")
    log_in(page, "fan", PASSWORD)
    page.goto("/settings/profile")
    page.get_by_test_id("bio").fill("I collect **watercolour** LoRAs.")
    page.get_by_label("Link 1").fill("https://fan.example/")
    page.get_by_test_id("save-profile").click()
    page.wait_for_url("**/settings/profile")
    page.get_by_role("link", name="See your public profile").click()
    bio = page.get_by_test_id("bio")
    expect(bio).to_have_text("I collect watercolour LoRAs.")
    expect(bio.locator("strong")).to_have_text("watercolour")
    expect(page.get_by_test_id("profile-links").get_by_role("link")).to_have_text("https://fan.example/")
