"""A workflow's model page: the graph is drawn (every node visible), and it pans and zooms."""

import pytest

from models_app.models import ModelType
from tests.factories import make_model, make_user
from tests.resources.workflow_samples import dumps, ui_04

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_a_workflow_page_see_the_graph_and_pan_and_zoom_it(page):
    workflow = ui_04(title="<img src=x onerror=window.pwned=1>")
    model = make_model(
        make_user("wren"), name="Fox workflow", type=ModelType.WORKFLOWS, content=dumps(workflow),
        filename="fox.json", base_model="SDXL 1.0",
    )  # fmt: skip
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(model.get_absolute_url())
    svg = page.get_by_test_id("workflow-svg")
    svg.scroll_into_view_if_needed()
    assert svg.is_visible()
    assert page.locator("[data-node-id]").count() == 9
    assert page.locator("[data-node-id='3']").is_visible()  # the KSampler
    assert page.locator("path.wf-link").count() == 9
    # The hostile title is shown as text; nothing ran.
    assert page.locator("[data-node-id='4'] .wf-title").text_content() == "<img src=x onerror=window.pwned=1>"
    assert page.evaluate("window.pwned") is None
    assert page.get_by_text("UltimateSDUpscale").first.is_visible()

    before = svg.get_attribute("viewBox")
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 60, steps=5)
    page.mouse.up()
    panned = svg.get_attribute("viewBox")
    assert panned != before
    bx, by, bw, bh = map(float, before.split())
    px, py, pw, ph = map(float, panned.split())
    assert px < bx and py < by and (pw, ph) == (bw, bh)  # dragged right/down: the view moves left/up

    page.get_by_role("button", name="Zoom in").click()
    zoomed = svg.get_attribute("viewBox")
    assert float(zoomed.split()[2]) < pw  # a narrower view is a closer look
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.wheel(0, 300)
    assert float(svg.get_attribute("viewBox").split()[2]) > float(zoomed.split()[2])
    page.get_by_role("button", name="Fit").click()
    assert svg.get_attribute("viewBox") == before
    assert not [e for e in errors if "Content Security Policy" in e]
