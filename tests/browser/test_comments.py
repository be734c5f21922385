"""Comment, reply, react and edit on a model page without the page reloading (static/js/comments.js),
under the pages' CSP; the section fits a 375 px phone (docs/comments.md#pages)."""

import pytest
from playwright.sync_api import expect

from community.models import Comment
from tests.factories import PASSWORD, make_model, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comment_reply_and_react_without_a_page_reload(page):
    creator = make_user("ink_artist")
    model = make_model(creator, name="Brush Strokes")
    make_user("fan")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, "fan", PASSWORD)
    page.goto(model.get_absolute_url())
    section = page.get_by_test_id("comments")
    expect(section.get_by_test_id("no-comments")).to_contain_text("No comments yet")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Add a comment").fill("Lovely **strokes**, @ink_artist")
    page.get_by_test_id("post-comment").click()
    comment = page.get_by_test_id("comment").first
    expect(comment.get_by_test_id("comment-body")).to_contain_text("Lovely strokes, @ink_artist")
    expect(comment.locator("strong")).to_have_text("strokes")
    expect(comment.get_by_role("link", name="@ink_artist")).to_have_attribute("href", "/user/ink_artist")
    expect(page.get_by_test_id("comment-count")).to_have_text("1 comment")
    expect(page.get_by_test_id("comment-status")).to_have_text("Your comment is posted.")

    comment.get_by_test_id("reply").click()
    comment.get_by_label("Your reply").fill("And a reply")
    comment.get_by_test_id("post-reply").click()
    reply = page.locator(".replies [data-testid=comment]")
    expect(reply.get_by_test_id("comment-body")).to_have_text("And a reply")
    expect(page.get_by_test_id("comment-count")).to_have_text("2 comments")

    top = page.get_by_test_id("comment").first
    top.get_by_test_id("react-heart").first.click()
    heart = page.get_by_test_id("comment").first.get_by_test_id("react-heart").first
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart.get_by_test_id("reaction-count")).to_have_text("1")

    top = page.get_by_test_id("comment").first
    top.get_by_test_id("edit-comment").first.click()
    page.locator(f"#edit-{top.get_attribute('data-comment-id')}").fill("Lovely strokes, edited")
    top.get_by_test_id("save-comment").first.click()
    expect(page.get_by_test_id("comment").first.get_by_test_id("comment-body").first).to_have_text(
        "Lovely strokes, edited"
    )
    # A refusal shows in the section, nothing is lost.
    page.get_by_label("Add a comment").fill("x" * 10)
    page.get_by_label("Add a comment").evaluate("t => { t.value = '   '; t.required = false; }")
    page.get_by_test_id("post-comment").click()
    expect(page.get_by_test_id("comment-status")).to_contain_text("can't be empty")

    assert page.evaluate("window.notReloaded") is True  # every step swapped HTML in, no reload
    assert Comment.objects.count() == 2
    assert violations == []

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    reply = page.locator(".replies [data-testid=comment]")
    expect(reply).to_be_visible()
    box = reply.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
