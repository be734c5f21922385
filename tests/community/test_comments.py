"""Comments (docs/comments.md): on models, versions and images, threaded, Markdown, mentions, pins,
hidden status, exact counts, abuse limits, on the pages (with and without the script) and by API."""

import io
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage

from community import comments
from community.models import ApiKey, Comment, CommentStatus, Review
from models_app.models import AIModel
from tests.conftest import ClosingClient as Client
from tests.factories import add_example_image, make_model, make_user, publish_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(creator):
    return make_model(creator)


def _api(user):
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _post(client, target_id, body, *, target_type="model", parent_id=None, **extra):
    data = {"target_type": target_type, "target_id": target_id, "body": body}
    if parent_id:
        data["parent_id"] = parent_id
    return client.post("/api/hub/comments", data, content_type="application/json", **extra)


def _list(client, target_id, target_type="model", page=1):
    return client.get(f"/api/hub/comments?target_type={target_type}&target_id={target_id}&page={page}")


def _count(model) -> int:
    return AIModel.objects.get(id=model.id).comment_count


def png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_anonymous_reads_but_cannot_write(model, fan):
    created = _post(_api(fan), model.id, "First!")
    assert created.status_code == 201
    assert _post(Client(), model.id, "anon").status_code == 401
    comment_id = created.json()["id"]
    assert (
        Client()
        .patch(f"/api/hub/comments/{comment_id}", {"body": "x"}, content_type="application/json")
        .status_code
        == 401
    )
    assert Client().delete(f"/api/hub/comments/{comment_id}").status_code == 401
    listed = _list(Client(), model.id).json()
    assert [t["body"] for t in listed["items"]] == ["First!"] and listed["next_page"] is None
    assert listed["items"][0]["user"] == "bob" and listed["items"][0]["replies"] == []


def test_reaction_buttons_are_labelled_in_each_viewers_language(model, fan, creator):
    """The labels are translated once per language and process (community_comments): a French
    viewer's page and then an English viewer's each get their own words."""
    assert _post(_api(fan), model.id, "Jolie aquarelle").status_code == 201
    viewer = Client()
    viewer.force_login(creator)
    url = model.get_absolute_url()
    for language, label in (("fr", "Drôle"), ("en", "Funny"), ("fr", "Drôle")):
        page = viewer.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert 'data-testid="react-laugh"' in page and f'title="{label}"' in page, language


def test_only_the_author_edits_or_deletes_others_get_403(model, fan, moderator):
    comment = _post(_api(fan), model.id, "mine").json()
    other = _api(make_user("dora"))
    url = f"/api/hub/comments/{comment['id']}"
    assert other.patch(url, {"body": "hacked"}, content_type="application/json").status_code == 403
    assert other.delete(url).status_code == 403
    assert _api(moderator).patch(url, {"body": "mod"}, content_type="application/json").status_code == 403
    assert Comment.objects.get(id=comment["id"]).body == "mine"

    edited = _api(fan).patch(url, {"body": "mine, *edited*"}, content_type="application/json")
    assert edited.status_code == 200
    assert edited.json()["body_html"] == "<p>mine, <em>edited</em></p>" and edited.json()["edited"] is False
    assert _api(fan).delete(url).status_code == 204
    assert _api(fan).delete(url).status_code == 404
    assert not Comment.objects.filter(id=comment["id"]).exists()  # no replies: gone


def test_bad_input_is_a_clear_400_and_writes_nothing(model, fan):
    api = _api(fan)
    assert "body" in _post(api, model.id, "   ").json()
    assert _post(api, model.id, "x" * 5001).status_code == 400
    assert "target_type" in _post(api, model.id, "hi", target_type="post").json()
    assert _post(api, 999999, "hi").status_code == 404
    assert _post(api, model.id, "hi", parent_id=999999).status_code == 400
    assert api.post("/api/hub/comments", "not json", content_type="application/json").status_code == 400
    assert _list(Client(), "x").status_code == 400
    assert _list(Client(), model.id, target_type="nope").status_code == 400
    assert _list(Client(), model.id, page=0).status_code == 400
    assert not Comment.objects.exists() and _count(model) == 0


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        '<a href="https://evil.test" onclick="x()">raw</a>',
        "![x](javascript:alert(1))",
        '<iframe src="https://evil.test"></iframe>',
        "[x](JaVaScRiPt:alert(1))",
    ],
)
def test_xss_attempts_are_rendered_harmless(client, model, fan, body):
    answer = _post(_api(fan), model.id, body).json()
    page = client.get(model.get_absolute_url()).content.decode()
    start = page.index('id="comments"')
    section = page[start : page.index("</section>", start)]
    for html in (answer["body_html"], section):
        tags = _tags(html)
        assert not [t for t, _ in tags if t in ("script", "img", "iframe")]
        for _tag, attrs in tags:
            assert not [name for name, _ in attrs if name.startswith("on")]
            assert not [
                v for name, v in attrs if name in ("href", "src") and "javascript" in (v or "").lower()
            ]


def _tags(html: str) -> list[tuple[str, list]]:
    """The tags a browser would build from `html`, with their attributes."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(html)
    return found


def test_links_are_nofollow_ugc_and_mentions_link_to_profiles(model, fan):
    dora = make_user("dora")
    make_user("gone", is_active=False)
    body = "See [docs](https://e.test) @dora and @gone and @nobody, not `@dora` nor mail@dora.test"
    answer = _post(_api(fan), model.id, body).json()
    html = answer["body_html"]
    assert '<a href="https://e.test" rel="nofollow noopener ugc">docs</a>' in html
    assert '<a href="/user/dora" class="mention" rel="nofollow ugc">@dora</a>' in html
    assert html.count('class="mention"') == 1  # not the inactive user, nobody, code or the email
    assert "<code>@dora</code>" in html and "@gone" in html and "@nobody" in html
    assert answer["mentions"] == ["dora"]
    comment = Comment.objects.get(id=answer["id"])
    assert list(comment.mentions.all()) == [dora]
    assert list(dora.mentioned_in.all()) == [comment]  # what a notifier reads
    edited = _api(fan).patch(
        f"/api/hub/comments/{comment.id}", {"body": "no one"}, content_type="application/json"
    )
    assert edited.json()["mentions"] == [] and not comment.mentions.exists()


def test_replies_nest_five_deep_and_a_sixth_is_refused(model, fan):
    api = _api(fan)
    parent = _post(api, model.id, "depth 0").json()
    for depth in range(1, 6):
        parent = _post(api, model.id, f"depth {depth}", parent_id=parent["id"]).json()
        assert parent["depth"] == depth
    refused = _post(api, model.id, "depth 6", parent_id=parent["id"])
    assert refused.status_code == 400 and "at most 5 levels" in refused.json()["detail"]
    thread = _list(Client(), model.id).json()["items"][0]
    assert [r["depth"] for r in thread["replies"]] == [1, 2, 3, 4, 5]
    assert _count(model) == 6


def test_a_reply_must_be_on_the_same_target(creator, fan, model):
    other = make_model(creator, name="Other")
    top = _post(_api(fan), other.id, "elsewhere").json()
    assert _post(_api(fan), model.id, "hi", parent_id=top["id"]).status_code == 400


def test_deleted_with_replies_shows_deleted_without_disappears(client, model, fan):
    api, dora = _api(fan), _api(make_user("dora"))
    top = _post(api, model.id, "Original thought").json()
    reply = _post(dora, model.id, "A reply", parent_id=top["id"]).json()
    assert _count(model) == 2
    assert api.delete(f"/api/hub/comments/{top['id']}").status_code == 204
    thread = _list(Client(), model.id).json()["items"][0]
    assert thread["deleted"] and thread["user"] is None and thread["body"] == "" and thread["body_html"] == ""
    assert thread["replies"][0]["body"] == "A reply"
    page = client.get(model.get_absolute_url()).content.decode()
    assert "[deleted]" in page and "Original thought" not in page and "A reply" in page
    assert _count(model) == 1
    # Editing, replying to or reacting to the deleted one: 404 / 400.
    assert (
        api.patch(
            f"/api/hub/comments/{top['id']}", {"body": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert _post(dora, model.id, "x", parent_id=top["id"]).status_code == 400
    # The last reply goes: the "[deleted]" placeholder has nothing left to hold and goes too.
    assert dora.delete(f"/api/hub/comments/{reply['id']}").status_code == 204
    assert not Comment.objects.exists() and _count(model) == 0
    assert _list(Client(), model.id).json()["items"] == []


def test_counts_stay_exact_on_cards_and_the_civitai_api(client, model, fan):
    api = _api(fan)
    version = model.versions.get()
    a = _post(api, model.id, "a").json()
    _post(api, version.id, "on the version", target_type="version")
    _post(api, model.id, "reply", parent_id=a["id"])
    assert _count(model) == 3
    assert Client().get(f"/api/v1/models/{model.id}").json()["stats"]["commentCount"] == 3
    # The version's comments show on the model page, labelled; listed by version in the API.
    page = client.get(model.get_absolute_url()).content.decode()
    assert "on the version" in page and "on v1.0" in page and "3 comments" in page
    assert [t["body"] for t in _list(Client(), version.id, "version").json()["items"]] == ["on the version"]
    assert [t["body"] for t in _list(Client(), model.id).json()["items"]] == ["a"]
    api.delete(f"/api/hub/comments/{a['id']}")  # has a reply: "[deleted]", not counted
    assert _count(model) == 2
    # On the model page, a reply to a version's comment goes to the version.
    on_version = Comment.objects.get(target_type="version")
    client.force_login(fan)
    client.post(f"/comments/model/{model.id}/post", {"body": "re version", "parent_id": on_version.id})
    reply = Comment.objects.get(body="re version")
    assert reply.parent == on_version and reply.version_id == version.id and _count(model) == 3


def test_hidden_comments_disappear_everywhere_with_their_replies(client, model, fan):
    api = _api(fan)
    top = _post(api, model.id, "spam spam").json()
    reply = _post(api, model.id, "reply to spam", parent_id=top["id"]).json()
    _post(api, model.id, "fine").json()
    assert _count(model) == 3
    comments.set_comment_status(Comment.objects.get(id=top["id"]), CommentStatus.HIDDEN)  # as moderation will
    assert _count(model) == 1
    listed = _list(Client(), model.id).json()
    assert [t["body"] for t in listed["items"]] == ["fine"]
    page = client.get(model.get_absolute_url()).content.decode()
    assert "spam" not in page and "fine" in page and "1 comment" in page
    assert (
        api.patch(
            f"/api/hub/comments/{reply['id']}", {"body": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert _post(api, model.id, "x", parent_id=top["id"]).status_code == 400
    assert (
        api.post(
            "/api/hub/reactions",
            {"target_type": "comment", "target_id": reply["id"], "kind": "like"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert Comment.objects.filter(id=top["id"]).exists()  # kept
    comments.set_comment_status(Comment.objects.get(id=top["id"]), CommentStatus.VISIBLE)
    assert _count(model) == 3
    comments.set_comment_status(Comment.objects.get(id=reply["id"]), CommentStatus.HIDDEN)
    assert _count(model) == 2
    assert _list(Client(), model.id).json()["items"][1]["replies"] == []


def test_comments_follow_the_visibility_of_their_model(creator, fan, model):
    draft = make_model(creator, name="Draft", publish=False)
    assert _post(_api(fan), draft.id, "peek").status_code == 404
    assert _list(Client(), draft.id).status_code == 404
    own = _post(_api(creator), draft.id, "note to self")
    assert own.status_code == 201
    assert _list(_api(creator), draft.id).json()["items"][0]["body"] == "note to self"
    assert _api(fan).delete(f"/api/hub/comments/{own.json()['id']}").status_code == 404
    # A mature model hidden to the viewer follows the same rule (selectors.visible_models).
    AIModel.objects.filter(id=model.id).update(status="unpublished")
    assert _list(Client(), model.id).status_code == 404


def test_the_creator_pins_one_top_level_comment_shown_first(client, creator, fan, model):
    api = _api(fan)
    first = _post(api, model.id, "older one").json()
    second = _post(api, model.id, "newer one").json()
    reply = _post(api, model.id, "a reply", parent_id=first["id"]).json()
    pin = f"/api/hub/comments/{first['id']}/pin"
    assert api.post(pin, {}, content_type="application/json").status_code == 403  # not the creator
    owner = _api(creator)
    assert (
        owner.post(f"/api/hub/comments/{reply['id']}/pin", {}, content_type="application/json").status_code
        == 400
    )
    assert owner.post(pin, {}, content_type="application/json").json()["pinned"] is True
    assert [t["body"] for t in _list(Client(), model.id).json()["items"]] == ["older one", "newer one"]
    owner.post(f"/api/hub/comments/{second['id']}/pin", {}, content_type="application/json")
    assert Comment.objects.filter(pinned=True).get().id == second["id"]  # one pin per target
    owner.post(f"/api/hub/comments/{second['id']}/pin", {"pinned": False}, content_type="application/json")
    assert not Comment.objects.filter(pinned=True).exists()
    # On the page, the creator's pin form; the pinned comment first with its badge.
    client.force_login(creator)
    client.post(f"/comments/{first['id']}/pin", {"pinned": "1"})
    page = client.get(model.get_absolute_url()).content.decode()
    assert page.index("older one") < page.index("newer one") and 'data-testid="pinned"' in page


def test_image_comments_follow_the_image_and_its_owner_pins(client, creator, fan, run_on_commit):
    version = publish_model(creator, run_on_commit, name="Pictured")
    image = add_example_image(version, run_on_commit, name="ex.png", content=png())
    api = _api(fan)
    created = _post(api, image.id, "Nice colours", target_type="image")
    assert created.status_code == 201 and created.json()["target_type"] == "image"
    assert _list(Client(), image.id, "image").json()["items"][0]["body"] == "Nice colours"
    page = client.get(f"/images/{image.id}").content.decode()
    assert "Nice colours" in page and "1 comment" in page
    assert (
        _api(creator)
        .post(f"/api/hub/comments/{created.json()['id']}/pin", {}, content_type="application/json")
        .status_code
        == 200
    )
    assert _post(api, 999999, "x", target_type="image").status_code == 404
    assert version.model.comments.count() == 0 and _count(version.model) == 0  # not a model comment


def test_new_unconfirmed_accounts_wait_to_comment(model, settings):
    newcomer = make_user("eve")
    EmailAddress.objects.filter(user=newcomer).update(verified=False)
    refused = _post(_api(newcomer), model.id, "hello")
    assert refused.status_code == 403 and "Confirm your email" in refused.json()["detail"]
    react = _api(newcomer).post(
        "/api/hub/reactions",
        {"target_type": "comment", "target_id": 1, "kind": "like"},
        content_type="application/json",
    )
    assert react.status_code in (403, 404)
    newcomer.date_joined = timezone.now() - timedelta(seconds=settings.COMMENT_MIN_ACCOUNT_AGE + 60)
    newcomer.save()
    assert _post(_api(newcomer), model.id, "hello").status_code == 201
    # Confirmed email, brand-new account: fine.
    assert _post(_api(make_user("fay")), model.id, "hi").status_code == 201
    assert not Comment.objects.filter(body="hello").exclude(user=newcomer).exists()


def test_posting_is_limited_per_user(model, fan, settings):
    settings.COMMENT_RATE_LIMIT = 3
    api = _api(fan)
    answers = [_post(api, model.id, f"c{i}").status_code for i in range(4)]
    assert answers == [201, 201, 201, 429]
    assert Comment.objects.count() == 3 and _count(model) == 3
    assert _post(_api(make_user("dora")), model.id, "other user").status_code == 201


def test_posting_is_limited_per_ip_address_across_accounts(model, settings):
    settings.COMMENT_RATE_LIMIT = 100
    settings.COMMENT_IP_RATE_LIMIT = 2
    users = [_api(make_user(f"sock{i}")) for i in range(3)]
    answers = [_post(api, model.id, "spam", REMOTE_ADDR="203.0.113.9").status_code for api in users]
    assert answers == [201, 201, 429]
    assert _post(users[2], model.id, "elsewhere", REMOTE_ADDR="198.51.100.1").status_code == 201


def test_the_page_form_works_without_script(client, model, fan):
    url = model.get_absolute_url()
    page = client.get(url).content.decode()
    assert "No comments yet" in page and "to comment." in page and "0 comments" in page
    assert client.post(f"/comments/model/{model.id}/post", {"body": "hi"}).status_code == 302  # to log in
    assert not Comment.objects.exists()

    client.force_login(fan)
    response = client.post(f"/comments/model/{model.id}/post", {"body": "**Hello**"})
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{url}#comment-{comment.id}"
    page = client.get(response["Location"]).content.decode()
    assert "<strong>Hello</strong>" in page and "Your comment is posted." in page
    assert f'name="parent_id" value="{comment.id}"' not in page  # forms open one at a time
    opened = client.get(f"{url}?comments_page=1&reply={comment.id}").content.decode()
    assert f'name="parent_id" value="{comment.id}"' in opened and "Your reply to bob" in opened
    opened = client.get(f"{url}?comments_page=1&edit={comment.id}").content.decode()
    assert f'id="edit-{comment.id}"' in opened and "**Hello**</textarea>" in opened
    response = client.post(f"/comments/model/{model.id}/post", {"body": "reply", "parent_id": comment.id})
    reply = Comment.objects.get(parent=comment)
    client.post(f"/comments/{reply.id}/edit", {"body": "reply, edited"})
    client.post(f"/comments/{comment.id}/react", {"kind": "heart"})
    page = client.get(url).content.decode()
    assert "reply, edited" in page and 'aria-label="Love: 1"' in page
    client.post(f"/comments/{comment.id}/react", {"kind": "heart"})  # toggled off
    assert Comment.objects.get(id=comment.id).heart_count == 0
    response = client.post(f"/comments/model/{model.id}/post", {"body": "  "})
    assert "a comment can&#x27;t be empty" in client.get(response["Location"]).content.decode()
    client.force_login(make_user("dora"))
    assert client.post(f"/comments/{comment.id}/delete").status_code == 302
    assert "Only the comment" in client.get(url).content.decode()
    assert Comment.objects.filter(id=comment.id, is_deleted=False).exists()


def test_the_script_gets_the_section_html_or_the_refusal(client, model, fan):
    client.force_login(fan)
    fragment = {"HTTP_X_COMMENTS": "fragment"}
    response = client.post(f"/comments/model/{model.id}/post", {"body": "via fetch"}, **fragment)
    assert response.status_code == 200 and response["X-Comment-Id"] == str(Comment.objects.get().id)
    html = response.content.decode()
    assert html.startswith('<section class="comments card" id="comments"') and "via fetch" in html
    assert "Your comment is posted." in html and "1 comment<" in html
    refused = client.post(f"/comments/model/{model.id}/post", {"body": ""}, **fragment)
    assert refused.status_code == 400 and "can't be empty" in refused.content.decode()
    assert Client().post(f"/comments/model/{model.id}/post", {"body": "x"}, **fragment).status_code == 401


def test_threads_are_paged_twenty_at_a_time_with_older_links(client, model, fan):
    for i in range(25):
        Comment.objects.create(
            target_type="model",
            model=model,
            user=fan,
            body=f"n{i}",
            body_html=f"<p>n{i}</p>",
            created_at=timezone.now() - timedelta(minutes=100 - i),
        )
    page = client.get(model.get_absolute_url()).content.decode()
    assert page.count('data-testid="comment"') == 20 and "<p>n24</p>" in page and "<p>n4</p>" not in page
    assert "?comments_page=2#comments" in page
    older = client.get(model.get_absolute_url() + "?comments_page=2").content.decode()
    assert older.count('data-testid="comment"') == 5 and "<p>n4</p>" in older and "Newer comments" in older
    fragment = client.get(f"/comments/model/{model.id}?page=2").content.decode()
    assert fragment.count('data-testid="comment"') == 5
    api = _list(Client(), model.id, page=2).json()
    assert len(api["items"]) == 5 and api["next_page"] is None
    assert _list(Client(), model.id).json()["next_page"] == 2


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_model_page_query_count_does_not_grow_with_comments(client, model, fan):
    version = model.versions.get()
    client.force_login(fan)
    url = model.get_absolute_url()
    users = [make_user(f"talker{i}") for i in range(4)]
    on_model = comments.find_target(fan, "model", model.id)
    on_version = comments.find_target(fan, "version", version.id)

    def add(n):
        """n comments: threads of a top-level comment and replies nested to depth 5, some on the
        version, with mentions and reactions."""
        last = None
        for _ in range(n):
            i = Comment.objects.count()
            author = users[i % 4]
            if last is None or i % 6 == 0:
                last = comments.post_comment(author, on_version if i % 12 == 0 else on_model, f"t{i} @bob")
            else:
                target = on_version if last.version_id else on_model
                parent = last if last.depth < 5 else last.parent
                last = comments.post_comment(author, target, f"r{i} @talker1", parent_id=parent.id)
            comments.toggle_reaction(fan, last, "like")

    with pytest.MonkeyPatch.context() as mp:
        for name in ("COMMENT_RATE_LIMIT", "COMMENT_IP_RATE_LIMIT", "REACTION_RATE_LIMIT"):
            mp.setattr(f"django.conf.settings.{name}", 0)
        for i in range(50):
            Review.objects.create(
                user=make_user(f"rev{i}"), version=version, recommended=bool(i % 2), text_html="<p>ok</p>"
            )
        add(5)
        five = _page_queries(client, url)
        add(195)
    assert Comment.objects.count() == _count(model) == 200
    assert _page_queries(client, url) == five
    assert _page_queries(Client(), url) < five  # anonymous: no session, no reactions of theirs
    page = client.get(url).content.decode()
    assert page.count('data-testid="comment"') > 20  # 20 threads with their replies


def test_seed_demo_adds_a_pinned_thread_once(run_on_commit):
    from django.core.management import call_command

    with run_on_commit():
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())
    model = AIModel.objects.get(name="Tiny Watercolor")
    thread = _list(Client(), model.id).json()["items"]
    assert len(thread) == 1 and thread[0]["pinned"] and thread[0]["mentions"] == ["demo"]
    assert thread[0]["replies"][0]["user"] == "demo" and thread[0]["reactions"]["heart"] == 1
    assert model.comment_count == 2


def test_a_page_shows_at_most_the_reply_cap_oldest_first(model, fan, monkeypatch):
    monkeypatch.setattr(comments, "MAX_REPLIES_PER_PAGE", 3)
    top = Comment.objects.create(
        target_type="model", model=model, user=fan, body="top", body_html="<p>top</p>"
    )
    for i in range(5):
        Comment.objects.create(
            target_type="model",
            model=model,
            user=fan,
            parent=top,
            root=top,
            depth=1,
            body=f"r{i}",
            body_html=f"<p>r{i}</p>",
        )
    thread = _list(Client(), model.id).json()["items"][0]
    assert [r["body"] for r in thread["replies"]] == ["r0", "r1", "r2"]


def test_a_comment_notifies_the_replied_to_the_mentioned_and_the_owner_once(model, fan, creator):
    """docs/notifications.md#comments: reply before mention before comment, each person once; an edit
    tells only people newly mentioned; deleting or hiding withdraws them."""
    from community.models import Notification

    dora, eve = make_user("dora"), make_user("eve")

    def told(person):
        return list(Notification.objects.filter(recipient=person, hidden=False).values_list("kind", "key"))

    target = comments.find_target(fan, "model", model.id)
    top = comments.post_comment(dora, target, "Question for the creator")
    assert told(creator) == [("comment", f"comment:{top.id}")]
    reply = comments.post_comment(fan, target, f"Same here, @dora and @{creator.username}", parent_id=top.id)
    assert told(dora) == [("reply", f"comment:{reply.id}")]  # a reply wins over the mention
    assert ("mention", f"comment:{reply.id}") in told(creator)  # a mention wins over "on your model"
    assert told(fan) == []  # never about your own comment
    comments.edit_comment(fan, reply, f"Same here, @dora, @{creator.username} and @eve")
    assert told(eve) == [("mention", f"comment:{reply.id}")]
    assert Notification.objects.filter(key=f"comment:{reply.id}").count() == 3  # nobody told twice
    comments.set_comment_status(top, "hidden")  # the thread goes, with its notifications
    assert told(dora) == told(eve) == [] and ("comment", f"comment:{top.id}") not in told(creator)
    comments.set_comment_status(top, "visible")
    assert told(dora) == [("reply", f"comment:{reply.id}")]
    comments.delete_comment(fan, reply)
    assert told(dora) == [] and told(eve) == []


def test_a_comment_on_an_image_tells_its_owner(fan, creator, run_on_commit):
    from community.models import Notification

    version = publish_model(creator, run_on_commit, name="Pictured")
    image = add_example_image(version, run_on_commit, name="ex.png", content=png())
    target = comments.find_target(fan, "image", image.id)
    comment = comments.post_comment(fan, target, "Lovely light")
    row = Notification.objects.get(recipient=creator)
    assert (row.kind, row.url) == ("comment", f"{image.get_absolute_url()}#comment-{comment.id}")


def test_page_forms_refuse_nonsense_without_a_500(client, model, fan):
    client.force_login(fan)
    fragment = {"HTTP_X_COMMENTS": "fragment"}
    assert (
        client.post(
            f"/comments/model/{model.id}/post", {"body": "x", "parent_id": "abc"}, **fragment
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/comments/model/{model.id}/post", {"body": "x", "parent_id": "٣"}, **fragment
        ).status_code
        == 400
    )
    assert client.post(f"/comments/version/{model.id}9/post", {"body": "x"}).status_code == 404
    assert client.post(f"/comments/post/{model.id}/post", {"body": "x"}).status_code == 404
    assert client.get(f"/comments/version/{model.versions.get().id}").status_code == 404
    assert client.get(f"/comments/model/{model.id}?page=zz").status_code == 200
    assert client.get(f"{model.get_absolute_url()}?comments_page=-3&reply=x&edit=").status_code == 200
    assert client.post("/comments/999999/edit", {"body": "x"}).status_code == 404
    assert client.get(f"/comments/model/{model.id}/post").status_code == 405
    assert not Comment.objects.exists()


def test_the_image_count_leaves_out_hidden_threads(client, creator, fan, run_on_commit):
    version = publish_model(creator, run_on_commit, name="Counted image")
    image = add_example_image(version, run_on_commit, name="ex.png", content=png())
    target = comments.find_target(fan, "image", image.id)
    top = comments.post_comment(fan, target, "top")
    reply = comments.post_comment(fan, target, "reply", parent_id=top.id)
    comments.post_comment(fan, target, "deeper", parent_id=reply.id)
    comments.post_comment(fan, target, "other")
    assert comments.visible_count(target) == 4
    comments.set_comment_status(top, CommentStatus.HIDDEN)
    assert comments.visible_count(target) == 1
    assert "1 comment<" in client.get(f"/images/{image.id}").content.decode()


def test_deleting_an_account_keeps_every_count_exact(model, fan, creator, settings):
    """Reviews, reactions and comments go with the account; the counts others see follow
    (community/account_deletion.py)."""
    from community import reviews

    settings.REVIEW_RATE_LIMIT = settings.COMMENT_RATE_LIMIT = settings.REACTION_RATE_LIMIT = 0
    version = model.versions.get()
    dora = make_user("dora")
    target = comments.find_target(fan, "model", model.id)
    mine = comments.post_comment(fan, target, "Leaving soon")
    comments.post_comment(dora, target, "Reply under it", parent_id=mine.id)
    theirs = comments.post_comment(dora, comments.find_target(dora, "version", version.id), "Staying")
    comments.add_reaction(fan, theirs, "heart")
    reviews.submit_review(fan, version, True, "good")
    reviews.submit_review(dora, version, False, "")
    model.refresh_from_db()
    assert (model.comment_count, model.thumbs_up_count, model.thumbs_down_count) == (3, 1, 1)

    fan.delete()

    model.refresh_from_db()
    version.refresh_from_db()
    theirs.refresh_from_db()
    assert model.comment_count == 1  # fan's comment and the reply under it went by cascade
    assert (model.thumbs_up_count, model.thumbs_down_count, model.rating) == (0, 1, 0.0)
    assert (version.thumbs_up_count, version.thumbs_down_count) == (0, 1)
    assert theirs.heart_count == 0
    data = Client().get(f"/api/v1/models/{model.id}").json()["stats"]
    assert (data["commentCount"], data["thumbsUpCount"], data["thumbsDownCount"]) == (1, 0, 1)
