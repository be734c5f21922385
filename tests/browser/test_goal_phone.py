"""A crowdfunding goal on a phone (375 px wide): the model page's goal panel, its progress bar and the
contribute form, and the creator's goal form, fit without scrolling sideways (docs/billing.md)."""

import datetime

import pytest
from django.utils import timezone

from models_app import funding
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, test_id: str) -> None:
    element = page.get_by_test_id(test_id)
    element.scroll_into_view_if_needed()
    assert element.is_visible()
    box = element.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (test_id, box)


def test_the_goal_panel_and_the_goal_form_fit_a_phone(page, settings):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_fake", "pk_test_fake"
    creator = make_user("hana")
    model = make_model(creator)
    funding.open_goal(
        user=creator,
        model=model,
        title="A much bigger training dataset with hand-checked captions for every single image",
        description="GPU time for a week, and a long word: " + "x" * 80,
        target=100_000_000,
        deadline=timezone.now() + datetime.timedelta(days=60),
    )
    make_user("ivo")
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, "ivo", PASSWORD)
    page.goto(model.get_absolute_url())
    for test_id in ("funding-goal", "goal-progress", "goal-contribute"):
        fits(page, test_id)
    assert page.get_by_test_id("goal-progress").inner_text() == "0.00 USD of 1000000.00 USD raised, 0%"
    assert page.locator("#goal progress").bounding_box()["width"] > 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"

    page.context.clear_cookies()
    log_in(page, "hana", PASSWORD)
    page.goto(f"/models/{model.id}/goal")
    fits(page, "goal-cancel")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the goal form scrolls sideways"
