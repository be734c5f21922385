"""The creator of a LoRA sees the parent the worker inferred from its file, confirms it on the model
page, and the lineage graph then shows it to everyone, on a phone too (docs/lineage.md)."""

import pytest
from playwright.sync_api import expect

from models_app.models import ModelType
from tests.community.test_lineage import checkpoint_bytes, lora_bytes
from tests.factories import PASSWORD, make_user, publish_model

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_creator_confirms_an_inferred_parent_and_the_graph_shows_it(page, browser, live_server):
    base_owner = make_user("studio")
    base = publish_model(
        base_owner,
        name="Base Realism",
        type=ModelType.CHECKPOINT,
        content=checkpoint_bytes(1),
        filename="base.safetensors",
    )
    creator = make_user("ink_artist")
    sha256 = base.files.get().blob.sha256.lower()
    lora = publish_model(creator, name="Ink Lines", content=lora_bytes({"ss_new_sd_model_hash": sha256}))

    log_in(page, "ink_artist", PASSWORD)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(lora.model.get_absolute_url())
    graph = page.get_by_test_id(f"lineage-{lora.id}")
    node = graph.get_by_test_id(f"lineage-node-{base.id}")
    expect(node).to_contain_text("Base Realism · v1.0")
    expect(node.get_by_test_id("lineage-proposed")).to_be_visible()
    expect(node).to_contain_text("from the file's ss_new_sd_model_hash")
    box = graph.bounding_box()  # the graph fits the phone (the logged-in header is another matter)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box

    node.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("The parent is confirmed.")).to_be_visible()
    node = page.get_by_test_id(f"lineage-{lora.id}").get_by_test_id(f"lineage-node-{base.id}")
    expect(node).to_contain_text("This version is a LoRA of it")
    expect(node.get_by_test_id("lineage-proposed")).to_have_count(0)
    expect(node.get_by_role("button", name="Confirm")).to_have_count(0)

    # Anyone now sees it, both ways: the LoRA's parent, and the checkpoint's child.
    visitor = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812})
    other = visitor.new_page()
    other.goto(lora.model.get_absolute_url())
    assert other.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"
    expect(other.get_by_test_id(f"lineage-node-{base.id}")).to_contain_text("Base Realism · v1.0")
    other.get_by_test_id(f"lineage-node-{base.id}").get_by_role("link", name="Base Realism · v1.0").click()
    other.wait_for_url(f"**{base.model.get_absolute_url()}#version-{base.id}")
    expect(
        other.get_by_test_id(f"lineage-{base.id}").get_by_test_id(f"lineage-node-{lora.id}")
    ).to_contain_text("Ink Lines · v1.0")
    visitor.close()
