"""Model pages, search results, the browse and home pages and the CivitAI list, as callers who are not signed
in get them, are built once and served again for a few seconds (models_app/page_cache.py,
docs/performance.md#kept-for-anonymous-visitors): each visitor still gets their own CSRF token, and edits,
models published and moderation decisions show at once."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community import comments
from community.models import ApiKey, Comment, CommentStatus
from models_app import page_cache
from models_app import services as model_services
from moderation import services as moderation_services
from tests.conftest import ClosingClient as Client
from tests.factories import make_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pages_kept")]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def model(creator):
    return make_model(creator, name="Kept Watercolor")


def comment(user, model, body: str):
    return comments.post_comment(user, comments.find_target(user, "model", model.id), body)


def test_anonymous_visitors_share_one_render_each_with_a_csrf_token_that_works(model):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    url = model.get_absolute_url()
    one = first.get(url)
    with CaptureQueriesContext(connection) as queries:
        two = second.get(url)

    assert one.status_code == two.status_code == 200
    assert len(queries) == 1  # the model's visibility check; the page itself was kept
    tokens = [TOKEN.search(r.content.decode()).group(1) for r in (one, two)]
    assert tokens[0] != tokens[1] and page_cache.TOKEN_PLACEHOLDER not in two.content.decode()
    assert TOKEN.sub("", one.content.decode()) == TOKEN.sub("", two.content.decode())
    # The second visitor's language switcher posts with their own token and cookie.
    switched = second.post(
        "/i18n/setlang/", {"language": "fr", "next": url, "csrfmiddlewaretoken": tokens[1]}
    )
    assert switched.status_code == 302
    assert "Kept Watercolor" in second.get(url).content.decode()  # now the French page, kept apart
    assert second.get(url).headers["Content-Language"] == "fr"


def test_an_edit_and_a_moderation_decision_show_to_anonymous_visitors_at_once(
    model, creator, fan, moderator, run_on_commit
):
    hidden = comment(fan, model, "A comment to be hidden")
    visitor, url = Client(), model.get_absolute_url()
    assert "A comment to be hidden" in visitor.get(url).content.decode()

    model_services.update_model(model=model, by=creator, description="Now with **brushes**.")
    assert "<strong>brushes</strong>" in visitor.get(url).content.decode()

    with run_on_commit():
        moderation_services.act(
            moderator=moderator, target_type="comment", target_id=hidden.id, action="hide", reason="Spam."
        )
    assert "A comment to be hidden" not in visitor.get(url).content.decode()


def test_someone_who_just_commented_sees_it_while_anonymous_visitors_wait_for_the_kept_page(
    model, fan, settings
):
    visitor, url = Client(), model.get_absolute_url()
    visitor.get(url)
    comment(fan, model, "Just posted")

    signed_in = Client()
    signed_in.force_login(fan)
    assert "Just posted" in signed_in.get(url).content.decode()
    assert "Just posted" not in visitor.get(url).content.decode()  # for ANONYMOUS_CACHE_SECONDS
    settings.ANONYMOUS_CACHE_SECONDS = 0
    assert "Just posted" in visitor.get(url).content.decode()


def test_the_civitai_list_is_kept_for_anonymous_tools_but_never_for_a_key(creator, moderator, run_on_commit):
    first = make_model(creator, name="First Watercolor")
    tool = Client()
    assert [m["name"] for m in tool.get("/api/v1/models?limit=10").json()["items"]] == ["First Watercolor"]
    make_model(creator, name="Second Watercolor")

    with CaptureQueriesContext(connection) as queries:
        kept = tool.get("/api/v1/models?limit=10")
    assert len(queries) == 0 and [m["name"] for m in kept.json()["items"]] == ["First Watercolor"]
    assert kept["Access-Control-Allow-Origin"] == "*"
    _, key = ApiKey.create(user=creator, name="tool")
    own = Client().get("/api/v1/models?limit=10", headers={"Authorization": f"Bearer {key}"})
    assert {m["name"] for m in own.json()["items"]} == {"First Watercolor", "Second Watercolor"}
    assert len(tool.get("/api/v1/models?limit=9").json()["items"]) == 2  # another URL, another answer

    with run_on_commit():
        moderation_services.act(
            moderator=moderator, target_type="model", target_id=first.id, action="hide", reason="Stolen."
        )
    assert [m["name"] for m in tool.get("/api/v1/models?limit=10").json()["items"]] == ["Second Watercolor"]


def test_search_results_and_suggestions_are_kept_for_anonymous_visitors(creator, moderator, run_on_commit):
    first = make_model(creator, name="First Gouache")
    visitor = Client()
    assert "First Gouache" in visitor.get("/search/?q=gouache").content.decode()
    assert "First Gouache" in visitor.get("/search/?q=gouache&fragment=suggestions").content.decode()
    with run_on_commit():  # a model published: its card changed, so every kept list is dropped
        make_model(creator, name="Second Gouache")
    assert "Second Gouache" in visitor.get("/search/?q=gouache").content.decode()
    assert "Second Gouache" in visitor.get("/search/?q=gouache&fragment=suggestions").content.decode()

    with CaptureQueriesContext(connection) as queries:
        page = visitor.get("/search/?q=gouache").content.decode()
        suggestions = visitor.get("/search/?q=gouache&fragment=suggestions").content.decode()
    assert len(queries) == 0 and "Second Gouache" in page + suggestions  # kept again
    assert "<html" in page and "<html" not in suggestions  # each URL keeps its own answer

    with run_on_commit():
        moderation_services.act(
            moderator=moderator, target_type="model", target_id=first.id, action="hide", reason="Stolen."
        )
    page = visitor.get("/search/?q=gouache").content.decode()
    assert "First Gouache" not in page and "Second Gouache" in page


def test_a_decision_taken_in_another_process_drops_what_this_one_kept(model, fan, settings, tmp_path):
    """The web processes each keep their own answers with the embedded local-memory cache; the
    generation they compare against is shared (a file in VAR_DIR, or Redis)."""
    settings.VAR_DIR = tmp_path
    hidden = comment(fan, model, "Hidden elsewhere")
    visitor, url = Client(), model.get_absolute_url()
    assert "Hidden elsewhere" in visitor.get(url).content.decode()
    Comment.objects.filter(id=hidden.id).update(status=CommentStatus.HIDDEN)
    assert "Hidden elsewhere" in visitor.get(url).content.decode()  # kept

    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from models_app import page_cache; page_cache.forget_all()",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "VAR_DIR": str(tmp_path)},
        check=True,
        capture_output=True,
    )
    assert "Hidden elsewhere" not in visitor.get(url).content.decode()


@pytest.mark.parametrize("url", ["/", "/models/", "/models/?sort=newest&type=LORA", "/tag/watercolor"])
def test_browse_and_home_pages_are_kept_and_a_published_model_shows_in_them_at_once(
    url, creator, run_on_commit
):
    make_model(creator, name="Old Harbour", tags=["watercolor"])
    visitor = Client()
    assert "Old Harbour" in visitor.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        kept = visitor.get(url).content.decode()
    assert len(queries) == 0 and "Old Harbour" in kept

    with run_on_commit():
        make_model(creator, name="New Harbour", tags=["watercolor"])
    assert "New Harbour" in visitor.get(url).content.decode()  # not 30 seconds later


def test_the_civitai_list_shows_a_published_model_at_once(creator, run_on_commit):
    make_model(creator, name="Old Harbour")
    tool = Client()
    assert "Old Harbour" in tool.get("/api/v1/models").content.decode()
    with run_on_commit():
        make_model(creator, name="New Harbour")
    assert "New Harbour" in tool.get("/api/v1/models").content.decode()
