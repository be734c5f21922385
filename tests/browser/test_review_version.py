"""A visitor reviews a version from the model page, changes their mind, and the counts follow."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_a_version_then_change_and_delete_the_review(page):
    creator = make_user("lora_maker")
    version = publish_model(creator, name="Soft Light")
    make_user("critic")
    log_in(page, "critic", PASSWORD)

    page.goto(version.model.get_absolute_url())
    reviews = page.get_by_test_id(f"reviews-{version.id}")
    counts = page.get_by_test_id(f"review-counts-{version.id}")
    expect(counts).to_have_text("0 recommend · 0 don't")
    expect(reviews).to_contain_text("No reviews yet.")

    reviews.get_by_label("Recommend", exact=True).check()
    reviews.get_by_label("Text (optional, Markdown)").fill("Great **skin tones**.")
    page.get_by_test_id(f"submit-review-{version.id}").click()
    expect(page.get_by_text("Your review is saved.")).to_be_visible()
    expect(counts).to_have_text("1 recommend · 0 don't")
    review = reviews.get_by_test_id("review")
    expect(review).to_contain_text("critic · Recommends")
    expect(review.locator("strong", has_text="skin tones")).to_be_visible()  # Markdown rendered

    reviews.get_by_text("Edit your review").click()
    reviews.get_by_label("Not recommend").check()
    page.get_by_test_id(f"submit-review-{version.id}").click()
    expect(page.get_by_text("Your review is updated.")).to_be_visible()
    expect(counts).to_have_text("0 recommend · 1 don't")  # editing replaced the vote
    expect(reviews.get_by_test_id("review")).to_have_count(1)

    page.get_by_test_id(f"delete-review-{version.id}").click()
    expect(page.get_by_text("Your review is deleted.")).to_be_visible()
    expect(counts).to_have_text("0 recommend · 0 don't")
