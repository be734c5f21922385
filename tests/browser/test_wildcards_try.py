"""Trying a wildcard template on a pack's page: prompts appear, the same seed gives the same ones."""

import pytest
from playwright.sync_api import expect

from models_app.models import ModelType
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_try_a_wildcard_template_on_the_model_page_and_add_another_pack(page):
    owner = make_user("wilma")
    model = make_model(owner, name="Animal pack", type=ModelType.WILDCARDS, content=b"cat\ndog\nfox\n",
                       filename="animal.txt")  # fmt: skip
    make_model(
        owner, name="Colour pack", type=ModelType.WILDCARDS, content=b"red\nblue\n", filename="color.txt"
    )
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, "wilma", PASSWORD)  # signed in, the API checks the CSRF token the panel carries
    page.goto(model.get_absolute_url())
    panel = page.locator("[data-testid=wildcard-panel]")
    assert "__animal__" in panel.inner_text() and "cat" in panel.inner_text()

    form = page.locator("[data-testid=wildcard-try]")
    form.locator("[name=template]").fill("a __color__ __animal__ <b>x</b>")
    form.locator("[name=pack_query]").fill("colour")
    form.locator("[data-testid=wildcard-add-pack]").click()
    assert "Colour pack" in form.locator("[data-testid=wildcard-packs-chosen]").inner_text()
    form.locator("[name=count]").fill("6")
    form.locator("[name=seed]").fill("7")
    form.locator("[name=with_count]").check()
    form.locator("[data-testid=wildcard-expand]").click()
    prompts = form.locator("[data-testid=wildcard-prompts] li")
    prompts.first.wait_for()
    first = prompts.all_inner_texts()
    assert len(first) == 6
    for prompt in first:
        words = prompt.split()
        assert words[0] == "a" and words[1] in {"red", "blue"} and words[2] in {"cat", "dog", "fox"}
        assert prompt.endswith("<b>x</b>")  # shown as text, not markup
    assert "6 combinations" in form.locator("[data-testid=wildcard-count]").inner_text()

    # Later, on a fresh page: the same template, packs and seed give the same prompts.
    page.goto(model.get_absolute_url())
    form.locator("[name=template]").fill("a __color__ __animal__ <b>x</b>")
    form.locator("[name=pack_query]").fill("colour")
    form.locator("[data-testid=wildcard-add-pack]").click()
    form.locator("[name=count]").fill("6")
    form.locator("[name=seed]").fill("7")
    form.locator("[data-testid=wildcard-expand]").click()
    expect(prompts).to_have_count(6)
    assert prompts.all_inner_texts() == first

    form.locator("[name=template]").fill("__animal__ " + "{" * 30 + "x" + "}" * 30)
    form.locator("[data-testid=wildcard-expand]").click()
    error = form.locator("[data-testid=wildcard-error]")
    error.wait_for()
    assert "braces deep" in error.inner_text()
    assert errors == []
