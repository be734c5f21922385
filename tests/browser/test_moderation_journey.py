"""A user reports a model, a moderator hides it from the queue at /moderation/ with the keyboard, the
owner sees the reason and appeals (docs/moderation.md). The queue fits a 375 px phone, under the CSP."""

import pytest
from playwright.sync_api import expect

from moderation.models import Appeal, AppealStatus, Report
from moderation.roles import grant_moderator
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_hide_from_the_queue_see_the_reason_and_appeal(page, browser, live_server):
    creator = make_user("ink_artist")
    model = make_model(creator, name="Brush Strokes")
    make_user("fan")
    grant_moderator(user=make_user("mod_one"))
    grant_moderator(user=make_user("mod_two"))

    # 1. A user reports the model from its page.
    log_in(page, "fan", PASSWORD)
    page.set_viewport_size({"width": 375, "height": 800})  # every page of this journey fits a phone
    page.goto(model.get_absolute_url())
    page.get_by_test_id("report-model").click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Depicts a real person").check()
    page.get_by_label("Details").fill("This is a real actress.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_test_id("report-sent")).to_contain_text("you will be notified")
    assert Report.objects.get().reason == "real_person"

    # 2. A moderator, on a phone, hides it from the queue with the keyboard.
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    phone.set_default_timeout(15_000)
    mod = phone.new_page()
    violations = []
    mod.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(mod, "mod_one", PASSWORD)
    mod.goto("/moderation/")
    row = mod.get_by_test_id("queue-row")
    expect(row).to_contain_text("Brush Strokes")
    expect(row).to_contain_text("Depicts a real person")
    assert mod.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    mod.get_by_label("Reason").last.fill("Real person without consent.")
    mod.locator("h1").click()  # leave the field: the shortcuts ignore keys typed into it
    mod.keyboard.press("j")
    expect(row).to_have_class("card mod-row current")
    mod.keyboard.press("h")
    expect(mod.get_by_test_id("queue-empty")).to_be_visible()
    assert violations == []
    model.refresh_from_db()
    assert model.status == "hidden"
    # The target's page, with its history, fits the phone too.
    mod.goto(f"/moderation/t/model/{model.id}")
    expect(mod.get_by_test_id("history")).to_contain_text("Real person without consent.")
    assert mod.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # 3. The owner sees the reason on the page, follows the notification and appeals.
    owner = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    owner.set_default_timeout(15_000)
    own = owner.new_page()
    log_in(own, "ink_artist", PASSWORD)
    own.goto(model.get_absolute_url())
    expect(own.get_by_test_id("moderation-notice")).to_contain_text("Real person without consent.")
    own.goto("/notifications")
    own.get_by_role("link", name="A moderator decided about Brush Strokes").click()
    expect(own.get_by_test_id("decision-reason")).to_have_text("Real person without consent.")
    own.get_by_label("Why is this decision wrong?").fill("She is a character I drew, not a person.")
    own.get_by_role("button", name="Send the appeal").click()
    expect(own.get_by_test_id("appeal-status")).to_have_text("Waiting for a moderator")
    assert own.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    appeal = Appeal.objects.get()
    assert appeal.status == AppealStatus.OPEN and appeal.assigned_to.username == "mod_two"
    phone.close()
    owner.close()
