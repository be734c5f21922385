"""A newcomer's first visit, in a real browser: sign up, log in, open a demo model."""

import io

import pytest
from django.core.management import call_command

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_in_and_open_a_demo_model(page):
    call_command("seed_demo", stdout=io.StringIO())

    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.fill("input[name=email]", "erin@example.com")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("[data-testid=current-user]")
    assert page.locator("[data-testid=current-user]").inner_text() == "erin"

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.fill("input[name=login]", "erin")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("[data-testid=current-user]")

    page.get_by_role("link", name="Tiny Watercolor").click()
    page.wait_for_url("**/models/*/tiny-watercolor")
    assert page.locator("h1").inner_text() == "Tiny Watercolor"
    assert page.get_by_text("tiny-watercolor.safetensors").is_visible()
    assert page.locator(".status-ready").first.inner_text() == "Ready"


def test_search_box_in_the_header_finds_a_model(page):
    call_command("seed_demo", stdout=io.StringIO())
    page.goto("/")
    page.fill("header input[name=q]", "realism")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search/?q=realism")
    assert page.get_by_role("link", name="Tiny Realism").is_visible()
    assert page.get_by_role("link", name="Tiny VAE").count() == 0


def test_layout_fits_a_phone_screen(page):
    call_command("seed_demo", stdout=io.StringIO())
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, "the page scrolls sideways on a phone"
    assert (
        page.locator(".model-card").count() == 6
    )  # seed_demo: LoRA, checkpoint, VAE, wildcard pack, workflow, merge (docs/lineage.md)
    # Every demo model's page (graph, wildcard lists, files table) and every image page fit too.
    from models_app.models import AIModel
    from resources.models import Image

    paths = [m.get_absolute_url() for m in AIModel.objects.all()]
    paths += [f"/images/{image_id}" for image_id in Image.objects.values_list("id", flat=True)]
    assert len(paths) >= 7
    for path in paths:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} scrolls sideways"
