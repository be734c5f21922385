"""Switch to French with the header's switcher and see the model page in French; the choice stays on
the next pages, and the header still fits a 375 px phone in French (docs/i18n.md)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switch_to_french_and_see_the_model_page_in_french(page):
    model = make_model(make_user("margot"), name="Aquarelle douce")
    model_file = model.versions.get().files.get()
    page.goto(model.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Permissions")).to_be_visible()

    page.get_by_test_id("language-switcher").get_by_role("button", name="FR").click()
    page.wait_for_url(f"**{model.get_absolute_url()}")  # back on the same page
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Aquarelle douce")
    expect(page.get_by_role("heading", name="Autorisations")).to_be_visible()
    expect(page.get_by_role("heading", name="Statistiques")).to_be_visible()
    expect(page.get_by_test_id(f"download-{model_file.id}")).to_have_text("Télécharger")
    expect(page.get_by_text("Utiliser sans citer le créateur")).to_be_visible()
    expect(page.get_by_role("link", name="Connexion")).to_be_visible()
    # The scripts speak French too (the catalog at /jsi18n/).
    assert page.evaluate("gettext('Copied')") == "Copié"

    # The cookie keeps French on the next pages, without asking again.
    page.get_by_role("link", name="Modèles").first.click()
    expect(page.get_by_role("heading", name="Modèles", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Appliquer")).to_be_visible()

    page.get_by_test_id("language-switcher").get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Apply")).to_be_visible()


def test_the_french_header_fits_a_phone(page):
    make_user("margot")
    log_in(page, "margot", PASSWORD)
    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_test_id("language-switcher").get_by_role("button", name="FR").click()
    expect(page.get_by_role("link", name="Clés d’API")).to_be_visible()
    expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the header scrolls sideways"
    switcher = page.get_by_test_id("language-switcher").bounding_box()
    assert switcher["x"] >= 0 and switcher["x"] + switcher["width"] <= 375, switcher
