"""Reactions to comments (docs/comments.md#reactions): like, heart, laugh, cry; one of each kind per
user and comment; toggled on the page; exact counts; by API."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from community import comments
from community.models import ApiKey, Comment, Reaction
from tests.conftest import ClosingClient as Client
from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment(creator, fan):
    model = make_model(creator)
    return comments.post_comment(fan, comments.find_target(fan, "model", model.id), "React to me")


def _api(user):
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _react(client, comment_id, kind="like", method="post"):
    body = {"target_type": "comment", "target_id": comment_id, "kind": kind}
    return getattr(client, method)("/api/hub/reactions", body, content_type="application/json")


def _counts(comment):
    comment.refresh_from_db()
    return comment.like_count, comment.heart_count, comment.laugh_count, comment.cry_count


def test_one_reaction_of_each_kind_per_user_and_the_counts_are_exact(comment, fan, creator):
    api = _api(creator)
    first = _react(api, comment.id, "like")
    assert first.status_code == 201 and first.json()["reactions"] == {
        "like": 1,
        "heart": 0,
        "laugh": 0,
        "cry": 0,
    }
    assert _react(api, comment.id, "like").status_code == 200  # already there: nothing changes
    assert _react(api, comment.id, "heart").status_code == 201
    assert _react(_api(fan), comment.id, "like").status_code == 201  # the author may react too
    assert _counts(comment) == (2, 1, 0, 0)
    assert Reaction.objects.filter(comment=comment).count() == 3

    assert _react(api, comment.id, "like", "delete").status_code == 204
    assert _react(api, comment.id, "like", "delete").status_code == 204  # none left: still 204
    query = f"/api/hub/reactions?target_type=comment&target_id={comment.id}&kind=heart"
    assert api.delete(query).status_code == 204
    assert _counts(comment) == (1, 0, 0, 0)

    listed = Client().get(f"/api/hub/comments?target_type=model&target_id={comment.model_id}").json()
    assert listed["items"][0]["reactions"]["like"] == 1 and listed["items"][0]["my_reactions"] == []
    mine = _api(fan).get(f"/api/hub/comments?target_type=model&target_id={comment.model_id}").json()
    assert mine["items"][0]["my_reactions"] == ["like"]


def test_bad_reactions_are_refused(comment, fan):
    api = _api(fan)
    assert "kind" in _react(api, comment.id, "angry").json()
    assert _react(api, 999999).status_code == 404
    assert _react(Client(), comment.id).status_code == 401
    assert _react(Client(), comment.id, method="delete").status_code == 401
    bad = api.post(
        "/api/hub/reactions",
        {"target_type": "model", "target_id": 1, "kind": "like"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert not Reaction.objects.exists()


def test_reactions_need_a_confirmed_email_or_an_older_account_and_are_rate_limited(comment, settings):
    newcomer = make_user("eve")
    EmailAddress.objects.filter(user=newcomer).update(verified=False)
    assert _react(_api(newcomer), comment.id).status_code == 403
    settings.REACTION_RATE_LIMIT = 2
    api = _api(make_user("dora"))
    answers = [_react(api, comment.id, kind).status_code for kind in ("like", "heart", "laugh")]
    assert answers == [201, 201, 429]
    assert _counts(comment) == (1, 1, 0, 0)


def test_the_page_buttons_toggle_and_show_counts(client, comment, creator):
    model_url = comment.model.get_absolute_url()
    page = Client().get(model_url).content.decode()
    assert f'action="/comments/{comment.id}/react"' not in page  # anonymous: counts only, no buttons
    client.force_login(creator)
    response = client.post(f"/comments/{comment.id}/react", {"kind": "laugh"}, HTTP_X_COMMENTS="fragment")
    html = response.content.decode()
    assert response.status_code == 200 and 'aria-label="Funny: 1"' in html and 'aria-pressed="true"' in html
    html = client.post(
        f"/comments/{comment.id}/react", {"kind": "laugh"}, HTTP_X_COMMENTS="fragment"
    ).content.decode()
    assert 'aria-label="Funny: 0"' in html and 'aria-pressed="true"' not in html
    refused = client.post(f"/comments/{comment.id}/react", {"kind": "angry"}, HTTP_X_COMMENTS="fragment")
    assert refused.status_code == 400 and "kind must be one of" in refused.content.decode()
    assert _counts(comment) == (0, 0, 0, 0)


def test_deleting_a_comment_with_replies_drops_its_reactions(comment, fan, creator):
    target = comments.find_target(fan, "model", comment.model_id)
    comments.post_comment(creator, target, "reply", parent_id=comment.id)
    _react(_api(creator), comment.id, "heart")
    comments.delete_comment(fan, comment)
    assert _counts(comment) == (0, 0, 0, 0) and not Reaction.objects.exists()
    assert _react(_api(creator), comment.id, "heart").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reactions_and_comments_keep_the_counts_exact(base_models):
    owner = make_user("owner")
    model = make_model(owner)
    target = comments.find_target(owner, "model", model.id)
    top = comments.post_comment(owner, target, "top")
    users = [make_user(f"reactor{i}") for i in range(8)]
    barrier = threading.Barrier(len(users))
    errors = []

    def work(user):
        try:
            barrier.wait()
            for i in range(10):
                comments.toggle_reaction(user, top, "like")
                mine = comments.post_comment(user, target, f"r{i}", parent_id=top.id)
                if i % 3 == 0:
                    comments.delete_comment(user, mine)
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with pytest.MonkeyPatch.context() as mp:
        for name in ("COMMENT_RATE_LIMIT", "COMMENT_IP_RATE_LIMIT", "REACTION_RATE_LIMIT"):
            mp.setattr(f"django.conf.settings.{name}", 0)
        threads = [threading.Thread(target=work, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    top.refresh_from_db()
    assert top.like_count == Reaction.objects.filter(comment=top, kind="like").count() == 0  # 10 toggles each
    model.refresh_from_db()
    assert model.comment_count == Comment.objects.filter(model=model, is_deleted=False).count() == 1 + 8 * 6
