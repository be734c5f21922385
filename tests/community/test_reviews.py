"""Reviews (docs/reviews.md): one per user and version, on the model page, by API and in the counts
that cards and the CivitAI API show."""

import random
import threading
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.utils import timezone

from community import reviews
from community.models import ApiKey, Review, ReviewStatus
from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(creator):
    return make_model(creator)


def _api(user):
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _put(client, version_id, data):
    return client.put(f"/api/hub/versions/{version_id}/review", data, content_type="application/json")


def _counts(model):
    model.refresh_from_db()
    return model.thumbs_up_count, model.thumbs_down_count, model.rating


def test_anonymous_can_read_but_not_write(model):
    version = model.versions.get()
    assert _put(Client(), version.id, {"recommended": True}).status_code == 401
    assert Client().delete(f"/api/hub/versions/{version.id}/review").status_code == 401
    listed = Client().get(f"/api/hub/versions/{version.id}/reviews")
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_a_moderator_reviews_like_anyone(model, moderator):
    assert _put(_api(moderator), model.versions.get().id, {"recommended": True}).status_code == 201


def test_the_creator_cannot_review_their_own_version(model, creator):
    response = _put(_api(creator), model.versions.get().id, {"recommended": True})
    assert response.status_code == 400 and "your own model" in response.json()["detail"]
    assert _counts(model) == (0, 0, 0)


def test_a_review_counts_editing_replaces_it_and_deleting_removes_it(model, fan):
    version = model.versions.get()
    api = _api(fan)
    created = _put(api, version.id, {"recommended": True, "text": "Lovely *ink*"})
    assert created.status_code == 201
    assert created.json()["user"] == "bob" and created.json()["text_html"] == "<p>Lovely <em>ink</em></p>"
    assert _counts(model) == (1, 0, 1.0)

    edited = _put(api, version.id, {"recommended": False, "text": "Changed my mind"})
    assert edited.status_code == 200 and edited.json()["id"] == created.json()["id"]
    assert _counts(model) == (0, 1, 0.0)
    assert Review.objects.filter(version=version).count() == 1

    other = make_user("dora")
    assert _put(_api(other), version.id, {"recommended": True}).status_code == 201
    assert _counts(model) == (1, 1, 0.5)
    listed = Client().get(f"/api/hub/versions/{version.id}/reviews").json()
    assert [r["user"] for r in listed["items"]] == ["dora", "bob"]
    assert listed["count"] == 2 and listed["recommended_count"] == 1

    assert api.delete(f"/api/hub/versions/{version.id}/review").status_code == 204
    assert api.delete(f"/api/hub/versions/{version.id}/review").status_code == 404
    assert _counts(model) == (1, 0, 1.0)


def test_bad_input_is_a_400(model, fan):
    api = _api(fan)
    version = model.versions.get()
    assert "recommended" in _put(api, version.id, {"text": "no verdict"}).json()
    assert _put(api, version.id, {"recommended": True, "text": "x" * 5001}).status_code == 400
    assert Client().get(f"/api/hub/versions/{version.id}/reviews?page=zero").status_code == 400
    assert Client().get(f"/api/hub/versions/{version.id}/reviews?page=9").json()["items"] == []


def test_a_version_you_cannot_see_is_a_404(creator, fan):
    draft = make_model(creator, name="Draft", publish=False).versions.get()
    assert _put(_api(fan), draft.id, {"recommended": True}).status_code == 404
    assert Client().get(f"/api/hub/versions/{draft.id}/reviews").status_code == 404
    assert _put(_api(fan), 999999, {"recommended": True}).status_code == 404


def test_hidden_reviews_do_not_count_and_are_not_listed(model, fan):
    version = model.versions.get()
    review, _ = reviews.submit_review(fan, version, True, "spam")
    assert _counts(model) == (1, 0, 1.0)
    reviews.set_review_status(review, ReviewStatus.HIDDEN)  # as moderation will
    assert _counts(model) == (0, 0, 0)
    assert Client().get(f"/api/hub/versions/{version.id}/reviews").json()["count"] == 0
    # Editing a hidden review keeps it hidden and uncounted; deleting it changes nothing.
    _put(_api(fan), version.id, {"recommended": False})
    assert _counts(model) == (0, 0, 0)
    assert _api(fan).delete(f"/api/hub/versions/{version.id}/review").status_code == 204
    assert _counts(model) == (0, 0, 0)
    review, _ = reviews.submit_review(fan, version, False, "")
    reviews.set_review_status(review, ReviewStatus.HIDDEN)
    reviews.set_review_status(review, ReviewStatus.VISIBLE)
    assert _counts(model) == (0, 1, 0.0)


def test_new_unconfirmed_accounts_wait_and_writes_are_rate_limited(model, settings):
    version = model.versions.get()
    newcomer = make_user("eve")
    EmailAddress.objects.filter(user=newcomer).update(verified=False)
    refused = _put(_api(newcomer), version.id, {"recommended": True})
    assert refused.status_code == 403 and "Confirm your email" in refused.json()["detail"]
    newcomer.date_joined = timezone.now() - timedelta(hours=2)
    newcomer.save()
    assert _put(_api(newcomer), version.id, {"recommended": True}).status_code == 201

    settings.REVIEW_RATE_LIMIT = 3
    api = _api(make_user("frank"))
    answers = [_put(api, version.id, {"recommended": bool(i % 2)}).status_code for i in range(4)]
    assert answers == [201, 200, 200, 429]


def test_the_model_page_form_cards_and_civitai_api_show_real_reviews(client, model, fan):
    version = model.versions.get()
    page = client.get(model.get_absolute_url()).content.decode()
    assert "0 recommend · 0 don't" in page and "Log in</a> to review" in page

    client.force_login(fan)
    page = client.get(model.get_absolute_url()).content.decode()
    assert f'data-testid="submit-review-{version.id}"' in page
    response = client.post(
        f"/reviews/versions/{version.id}",
        {"recommended": "yes", "text": "<script>alert(1)</script>**Great**"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "1 recommend · 0 don't" in page and "Your review is saved." in page
    assert "<strong>Great</strong>" in page and "<script>alert(1)" not in page
    assert 'data-testid="my-review"' in page and f'data-testid="delete-review-{version.id}"' in page

    stats = Client().get(f"/api/v1/models/{model.id}").json()["stats"]
    assert (
        stats["thumbsUpCount"] == 1 and stats["thumbsDownCount"] == 0 and stats["rating"] == 5.0
    )  # CivitAI rates out of 5
    assert "👍 1" in Client().get("/models/").content.decode()

    version_stats = Client().get(f"/api/v1/model-versions/{version.id}").json()["stats"]
    assert (version_stats["thumbsUpCount"], version_stats["thumbsDownCount"]) == (1, 0)

    client.post(f"/reviews/versions/{version.id}", {"recommended": "no"})
    data = Client().get(f"/api/v1/models/{model.id}").json()
    assert (data["stats"]["thumbsUpCount"], data["stats"]["thumbsDownCount"]) == (0, 1)
    version_stats = data["modelVersions"][0]["stats"]
    assert (version_stats["thumbsUpCount"], version_stats["thumbsDownCount"]) == (0, 1)

    client.post(f"/reviews/versions/{version.id}/delete")
    page = client.get(model.get_absolute_url()).content.decode()
    assert "0 recommend · 0 don't" in page and "Your review is deleted." in page

    client.force_login(model.owner)
    page = client.get(model.get_absolute_url()).content.decode()
    assert f'data-testid="submit-review-{version.id}"' not in page
    client.post(f"/reviews/versions/{version.id}", {"recommended": "yes"})
    assert "You can&#x27;t review your own model." in client.get(model.get_absolute_url()).content.decode()
    assert _counts(model) == (0, 0, 0)


def test_review_text_is_sanitised_in_every_answer(model, fan):
    version = model.versions.get()
    text = '<img src=x onerror=alert(1)> [x](javascript:alert(1)) <a onclick="x">l</a> [ok](https://e.test)'
    body = _put(_api(fan), version.id, {"recommended": True, "text": text}).json()
    for html in (body["text_html"], Client().get(model.get_absolute_url()).content.decode()):
        assert "<img src=x" not in html and 'href="javascript:' not in html and "<a onclick" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, harmless
    assert '<a href="https://e.test" rel="nofollow noopener ugc">ok</a>' in body["text_html"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_keep_the_counts_exact(base_models):
    owner = make_user("owner")
    model = make_model(owner)
    version = model.versions.get()
    users = [make_user(f"voter{i}") for i in range(8)]
    barrier = threading.Barrier(len(users))
    errors = []

    def vote(user):
        try:
            rng = random.Random(user.id)
            barrier.wait()
            for _ in range(15):
                if rng.random() < 0.2:
                    reviews.delete_review(user, version)
                else:
                    reviews.submit_review(user, version, rng.random() < 0.5, "")
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.conf.settings.REVIEW_RATE_LIMIT", 0)
        threads = [threading.Thread(target=vote, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    up = Review.objects.filter(version=version, recommended=True).count()
    down = Review.objects.filter(version=version, recommended=False).count()
    assert _counts(model) == (up, down, up / (up + down) if up + down else 0)
    version.refresh_from_db()
    assert (version.thumbs_up_count, version.thumbs_down_count) == (up, down)


def test_every_review_has_a_page_beyond_the_ten_on_the_model_page(client, model, settings):
    settings.REVIEW_RATE_LIMIT = 0
    version = model.versions.get()
    for i in range(35):
        reviews.submit_review(make_user(f"critic{i}"), version, i % 2 == 0, f"take {i}")
    page = client.get(model.get_absolute_url()).content.decode()
    more = f'href="/reviews/versions/{version.id}/all"'
    assert more in page and page.count('data-testid="review"') == 10
    first = client.get(f"/reviews/versions/{version.id}/all").content.decode()
    assert first.count('data-testid="review"') == 30
    assert "take 34<" in first and "take 4<" not in first and "18 recommend · 17 don't" in first
    assert '<a href="?page=2">Older</a>' in first
    second = client.get(f"/reviews/versions/{version.id}/all?page=2").content.decode()
    assert second.count('data-testid="review"') == 5 and "take 0" in second
    assert client.get(f"/reviews/versions/{version.id}/all?page=banana").status_code == 200  # first page
    french = client.get(f"/reviews/versions/{version.id}/all", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Avis sur <a href=" in french


def test_the_reviews_page_of_a_hidden_version_is_a_404(client, creator):
    draft = make_model(creator, name="Draft", publish=False).versions.get()
    assert client.get(f"/reviews/versions/{draft.id}/all").status_code == 404
