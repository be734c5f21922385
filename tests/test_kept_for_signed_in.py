"""A model page is kept for signed-in people too when nothing on it is theirs (models_app/page_cache.py,
docs/performance.md#kept-for-signed-in-viewers): it is built for a blank viewer, and each person's
header, collections picker, follow button and early-access panels, and for those who reviewed or
commented there their review forms and their comments' actions, are drawn in for them. Whatever else
a viewer has of their own on the page (a draft in the lineage graph, an image shown to them alone)
gets them a page built for them, so what they see is what a page built for them shows."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community import collections, comments, follows, notifications, reviews
from community.models import ApiKey, LineageRelation, Notification, Review, ReviewStatus, VersionParent
from models_app import demo, page_cache, services
from models_app.levels import NsfwLevel
from models_app.models import AIModel, EarlyAccessGrant, ModelVersion, PublishStatus, ViewerPreference
from models_app.tasks import process_file
from resources import images
from resources.models import Image, ImageStatus
from tests.conftest import ClosingClient as Client
from tests.factories import make_model, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pages_kept")]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|data-csrf="[^"]*"')


@pytest.fixture
def model(creator):
    model = make_model(creator, name="Kept Harbour")
    # "published 3 days ago" reads the same on a page built a second later than the kept one.
    AIModel.objects.filter(id=model.id).update(published_at=timezone.now() - timedelta(days=3))
    model.refresh_from_db()
    return model


def client_of(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def page_text(response) -> str:
    assert response.status_code == 200
    return TOKEN.sub("", response.content.decode())


def test_signed_in_viewers_with_nothing_of_their_own_share_one_build_with_their_own_header(
    model, fan, settings
):
    other = make_user("dora")
    notifications.notify(other, "follower", actor=fan, key="follow:test", target_name="dora")
    url = model.get_absolute_url()
    client_of(fan).get(url)  # built for the blank viewer and kept

    viewer = client_of(other)
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    html = kept.content.decode()
    assert kept.status_code == 200 and "Kept Harbour" in html
    # The session, the user (with whether they hold any permission, dora none, and her levels), the
    # model, the one own-state query (which reads the bell's count too, and that she has no
    # collection for the picker to list).
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]
    assert 'data-testid="current-user">dora<' in html and ">bob<" not in html
    assert page_cache.VIEWER_PLACEHOLDER not in html and page_cache.TOKEN_PLACEHOLDER not in html
    assert page_text(kept) == page_text(_built(viewer, url, settings))  # the bell's unread count is dora's

    # Once she has a collection, the picker asks for hers (one query more) and lists it.
    collections.create_collection(owner=other, name="Harbours")
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    assert len(queries) <= 3 and "Harbours" in kept.content.decode()
    assert page_text(kept) == page_text(_built(viewer, url, settings))

    # Their own CSRF token works: following from the kept page.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    followed = viewer.post(f"/follow/model/{model.id}", {"csrfmiddlewaretoken": token, "next": url})
    assert followed.status_code == 302
    assert follows.followers(other, {"model": model}) == (1, True)


def test_the_bell_of_a_kept_page_counts_what_the_bell_counts_elsewhere(model, fan, settings):
    """The bell's count comes with the own-state query: read, hidden and other people's
    notifications are not counted, and past the cap it shows "99+"."""
    url = model.get_absolute_url()
    client_of(make_user("erin")).get(url)  # kept
    dora = make_user("dora")
    other = {"kind": "follower", "target_name": "them"}
    Notification.objects.create(recipient=dora, key="k-dora", **other)
    Notification.objects.create(recipient=fan, key="k-read", read_at=timezone.now(), **other)
    Notification.objects.create(recipient=fan, key="k-hidden", hidden=True, **other)
    viewer = client_of(fan)
    for unread, shown in ((3, ">3<"), (101, ">99+<")):
        existing = Notification.objects.filter(recipient=fan, read_at__isnull=True, hidden=False).count()
        Notification.objects.bulk_create(
            Notification(recipient=fan, key=f"k{n}", **other) for n in range(existing, unread)
        )
        kept = viewer.get(url)
        bell = re.search(r'data-testid="notification-count">[^<]*<', kept.content.decode()).group(0)
        assert bell.endswith(shown), bell
        assert page_text(kept) == page_text(_built(viewer, url, settings))


def test_a_follower_gets_the_kept_page_with_their_follow_button_and_everyone_the_count(model, fan, settings):
    """The follow button is a hole: its count and the viewer's follow come with the own-state
    check, so following a model no longer costs its followers a page built for them."""
    url = model.get_absolute_url()
    dora = client_of(make_user("dora"))
    assert "0 followers" in dora.get(url).content.decode()  # built for the blank viewer and kept
    follows.follow(follower=fan, target={"model": model})

    viewer = client_of(fan)
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]
    html = kept.content.decode()
    assert 'name="action" value="unfollow"' in html and "1 follower<" in html
    assert page_text(kept) == page_text(_built(viewer, url, settings))
    # Everyone's kept page shows the new count at once, with their own button.
    html = dora.get(url).content.decode()
    assert 'name="action" value="follow"' in html and "1 follower<" in html

    # The button's form carries the follower's own CSRF token (it is remembered without one).
    form = re.search(r'<div class="follow".*?</form>', kept.content.decode(), re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    unfollowed = viewer.post(
        f"/follow/model/{model.id}", {"csrfmiddlewaretoken": token, "action": "unfollow", "next": url}
    )
    assert unfollowed.status_code == 302
    assert follows.followers(fan, {"model": model}) == (0, False)


def _second_version(model, creator):
    version = services.create_version(model=model, name="v2.0", base_model="SD 1.5", trained_words=["tiny"])
    added = services.add_file(version=version, name="two.safetensors", content=io.BytesIO(demo.tiny_lora()))
    process_file.apply(args=[added.id])
    services.publish_version(version=version, by=creator)
    return version


def _kept_with_parts(model, user, settings):
    """Another viewer's request keeps the page; then `user`'s: at most 4 queries (the kept page's 3,
    and their reviews or the comments they wrote or reacted to), the page built for them. Returns
    both clients and `user`'s page."""
    url = model.get_absolute_url()
    dora = client_of(make_user("dora"))
    dora.get(url)  # built for the blank viewer and kept
    viewer = client_of(user)
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]
    assert page_text(kept) == page_text(_built(viewer, url, settings))
    return dora, viewer, kept.content.decode()


def test_a_reviewer_gets_the_kept_page_with_their_own_review_forms(model, creator, fan, settings):
    """Each version's review form is a hole: a reviewer gets the kept page with their review in the
    form of the version they reviewed (one more query), and the open form under the others."""
    first, second = model.versions.get(), _second_version(model, creator)
    reviews.submit_review(fan, second, False, "Muddy greens")
    Review.objects.filter(user=fan).update(status=ReviewStatus.HIDDEN)
    dora, viewer, html = _kept_with_parts(model, fan, settings)
    assert html.count('data-testid="my-review"') == 1 and "(hidden by moderation)" in html
    assert f'data-testid="delete-review-{second.id}"' in html and ">Muddy greens</textarea>" in html
    assert f'data-testid="delete-review-{first.id}"' not in html and html.count("Review this version") == 1
    # Others' kept page has the blank forms.
    other = dora.get(model.get_absolute_url()).content.decode()
    assert 'data-testid="my-review"' not in other and other.count("Review this version") == 2

    # The delete form carries the reviewer's own CSRF token.
    form = re.search(
        r'<form method="post" action="([^"]+)"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
        rf'<button type="submit" class="secondary" data-testid="delete-review-{second.id}"',
        html,
    )
    deleted = viewer.post(form.group(1), {"csrfmiddlewaretoken": form.group(2)})
    assert deleted.status_code == 302
    assert not Review.objects.filter(user=fan).exists()


def test_a_commenter_gets_the_kept_page_with_the_comments_drawn_for_them(model, creator, fan, settings):
    """Each comment's actions are a hole, drawn for those who commented or reacted there: their
    comments carry Edit and Delete, their reactions are pressed; everyone else gets the blank
    viewer's actions, kept with the page."""
    _comment(fan, model, creator)
    _reaction(fan, model, creator)
    dora, viewer, html = _kept_with_parts(model, fan, settings)
    assert html.count('data-testid="edit-comment"') == 1 and html.count('data-testid="report-comment"') == 1
    assert 'class="reaction mine" aria-pressed="true"' in html
    other = dora.get(model.get_absolute_url()).content.decode()
    assert 'data-testid="edit-comment"' not in other and other.count('data-testid="report-comment"') == 2
    assert "reaction mine" not in other

    # Deleting their comment with the form of the kept page (their own CSRF token).
    mine = comments.Comment.objects.get(user=fan)
    form = re.search(
        rf'<form method="post" action="([^"]+/{mine.id}/delete)" class="inline-form">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">',
        html,
    )
    deleted = viewer.post(form.group(1), {"csrfmiddlewaretoken": form.group(2), "page": "1"})
    assert deleted.status_code == 302
    assert not comments.Comment.objects.filter(id=mine.id, is_deleted=False).exists()


def test_a_commenters_open_edit_and_reply_forms_are_drawn_for_them(model, creator, fan, settings):
    """`?edit=` and `?reply=` open a form under one comment, in its hole: a commenter gets theirs on
    the kept page, however many comments others wrote there."""
    _comment(fan, model, creator)
    for n in range(4):
        _comment(make_user(f"talker{n}"), model, creator)
    mine = comments.Comment.objects.get(user=fan)
    url = model.get_absolute_url()
    viewer = client_of(fan)
    for query in (f"?edit={mine.id}", f"?reply={mine.id}", "?comments_page=1"):
        client_of(make_user(f"dora{len(query)}")).get(url + query)  # kept
        with CaptureQueriesContext(connection) as queries:
            kept = viewer.get(url + query)
        assert len(queries) <= 3, [q["sql"][:80] for q in queries]
        assert page_text(kept) == page_text(_built(viewer, url + query, settings))
    assert 'data-testid="save-comment"' in viewer.get(f"{url}?edit={mine.id}").content.decode()
    assert 'data-testid="post-reply"' in viewer.get(f"{url}?reply={mine.id}").content.decode()


def test_a_model_above_a_viewers_levels_warns_them_first_with_their_own_header(creator, fan):
    """The warning is theirs, built once for them (nothing of it is kept); "Show it" gives the kept page."""
    url = make_model(creator, name="Spicy Harbour", nsfw_level=4).get_absolute_url()
    viewer = client_of(fan)
    with CaptureQueriesContext(connection) as queries:
        html = viewer.get(url).content.decode()
    assert "This model is rated R" in html and "Show it" in html
    # The kept page's 3, then the model's tags and versions, the bell and the picker for the warning: built once, for them.
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]
    assert f'data-testid="current-user">{fan.username}<' in html and page_cache.VIEWER_PLACEHOLDER not in html

    shown = viewer.get(f"{url}?mature=show").content.decode()
    assert "This model is rated R" not in shown and "Spicy Harbour" in shown
    dora = client_of(make_user("dora"))
    with CaptureQueriesContext(connection) as queries:
        again = dora.get(f"{url}?mature=show").content.decode()
    assert len(queries) <= 2 and "Spicy Harbour" in again  # the revealed page is kept for others


def _built(client, url, settings):
    """The page as built for the client's viewer, nothing kept."""
    settings.ANONYMOUS_CACHE_SECONDS = 0
    response = client.get(url)
    settings.ANONYMOUS_CACHE_SECONDS = 30
    return response


def _own_state(user, model):
    """Whether the model page shows `user` anything of their own, and what its holes show them: read
    with the model's row in the view's first query."""
    found, own, values = page_cache.visible_model_and_state(user, model.pk)
    assert found == model
    return own, values


def _follow(viewer, model, creator):
    follows.follow(follower=viewer, target={"model": model})


def _review(viewer, model, creator):
    reviews.submit_review(viewer, model.versions.get(), True, "Lovely brushes")


def _comment(viewer, model, creator):
    comments.post_comment(viewer, comments.find_target(viewer, "model", model.id), "My own words")


def _reaction(viewer, model, creator):
    theirs = comments.post_comment(creator, comments.find_target(creator, "model", model.id), "Thanks all")
    comments.add_reaction(viewer, theirs, "heart")


def _favourite(viewer, model, creator):
    collections.add_item(
        collection=collections.favourites_of(viewer, create=True), by=viewer, target={"model": model}
    )


def _draft_in_lineage(viewer, model, creator):
    draft = make_model(viewer, name="My Secret Merge", publish=False).versions.get()
    VersionParent.objects.create(
        child=draft, parent=model.versions.get(), relation=LineageRelation.MERGE_OF, confirmed=True
    )


def _draft_as_parent(viewer, model, creator):
    """A draft of theirs the model's version was made from: its graph shows the draft to them alone."""
    draft = make_model(viewer, name="My Secret Base", publish=False).versions.get()
    VersionParent.objects.create(
        child=model.versions.get(), parent=draft, relation=LineageRelation.FINETUNE_OF, confirmed=True
    )


def _unpublished_model_in_lineage(viewer, model, creator):
    """A published version of their model taken down to unpublished, made from this model's."""
    theirs = make_model(viewer, name="My Withdrawn Merge")
    VersionParent.objects.create(
        child=theirs.versions.get(),
        parent=model.versions.get(),
        relation=LineageRelation.MERGE_OF,
        confirmed=True,
    )
    AIModel.objects.filter(pk=theirs.pk).update(status=PublishStatus.UNPUBLISHED)


def _link_to_confirm(viewer, model, creator):
    mine = make_model(viewer, name="My Public Tune").versions.get()
    VersionParent.objects.create(
        child=mine, parent=model.versions.get(), relation=LineageRelation.FINETUNE_OF, confirmed=False
    )


def _image_made_with(viewer, model, *, status=ImageStatus.READY, nsfw_level=1):
    """`viewer`'s image made with the model's version, processed, shown under "made with" it."""
    image = images.add_image(
        owner=viewer,
        name="harbour-at-dusk.png",
        content=io.BytesIO(demo.example_image((20, 40, 90), (240, 180, 60))),
        version_ids=[model.versions.get().id],
    )
    image = images.process_image(image=image)
    assert image.status == ImageStatus.READY
    Image.objects.filter(id=image.id).update(status=status, nsfw_level=nsfw_level)
    return image


def _hidden_image(viewer, model, creator):
    _image_made_with(viewer, model, status=ImageStatus.HIDDEN)  # by a moderator: shown to its owner alone


def _blocked_image(viewer, model, creator):
    _image_made_with(viewer, model, nsfw_level=NsfwLevel.BLOCKED)


def _early_access(viewer, model, creator):
    model.versions.update(early_access_ends_at=timezone.now() + timedelta(days=3))


def _levels(viewer, model, creator):
    ViewerPreference.objects.create(user=viewer, browsing_levels=31, blur_mature=False)


@pytest.mark.parametrize(
    "own",
    [
        _follow,
        _review,
        _comment,
        _reaction,
        _favourite,
        _draft_in_lineage,
        _draft_as_parent,
        _unpublished_model_in_lineage,
        _link_to_confirm,
        _hidden_image,
        _blocked_image,
        _early_access,
        _levels,
    ],
)
def test_what_is_a_viewers_own_shows_to_them_as_on_a_page_built_for_them(model, creator, fan, own, settings):
    own(fan, model, creator)
    url = model.get_absolute_url()
    client_of(make_user("dora")).get(url)  # someone with nothing of their own there: kept
    viewer = client_of(fan)

    assert page_text(viewer.get(url)) == page_text(_built(viewer, url, settings))


def test_an_image_everyone_sees_leaves_its_owner_the_kept_page(model, creator, fan, settings):
    """An image of theirs that anyone may see shows to them as to anyone: their page is the kept one
    (no query of the page built for them), the same as built, and others see the image too. Only an
    image shown to them alone gets them a built page (the parametrized test above)."""
    image = _image_made_with(fan, model)
    url = model.get_absolute_url()
    client_of(make_user("dora")).get(url)  # kept
    viewer = client_of(fan)
    with CaptureQueriesContext(connection) as queries:
        page = page_text(viewer.get(url))
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]
    assert f"/images/thumbnails/{image.id}.webp" in page
    assert page == page_text(_built(viewer, url, settings))
    Image.objects.filter(id=image.id).update(status=ImageStatus.HIDDEN)
    assert _own_state(fan, model)[0]  # now theirs alone: built for them


def test_a_version_in_early_access_keeps_the_page_and_draws_its_panel_for_each_viewer(
    model, creator, fan, settings
):
    """The early-access panel is a part drawn for every viewer of the kept page: someone with a grant
    reads that they have early access, someone without it the members' offer, each as on a page
    built for them, and neither gets the whole page built."""
    version = model.versions.get()
    ends = timezone.now() + timedelta(days=3)
    ModelVersion.objects.filter(id=version.id).update(early_access_ends_at=ends, early_access_members=True)
    EarlyAccessGrant.objects.create(user=fan, version=version, reason="tester")
    url = model.get_absolute_url()
    dora = client_of(make_user("dora"))
    first = page_text(dora.get(url))  # built for the blank viewer and kept
    assert 'data-testid="early-access-members"' in first and 'data-testid="early-access-open"' not in first

    for viewer, has_access in ((client_of(fan), True), (dora, False)):
        with CaptureQueriesContext(connection) as queries:
            page = page_text(viewer.get(url))
        assert len(queries) <= 5, [q["sql"][:80] for q in queries]  # kept: a built page costs ~30
        assert ('data-testid="early-access-open"' in page) is has_access
        assert page.count('data-testid="early-access-panel"') == 1
        assert page == page_text(_built(viewer, url, settings))


def test_the_creator_moderators_and_staff_get_their_own_page_kept_for_them_alone(
    model, creator, moderator, settings
):
    url = model.get_absolute_url()
    client_of(make_user("dora")).get(url)
    staff = make_user("erin", is_staff=True)
    for person, theirs in (
        (creator, "owner-actions"),
        (moderator, 'data-testid="moderate-model"'),
        (staff, 'href="/admin/"'),
    ):
        client = client_of(person)
        first = client.get(url)
        assert theirs in first.content.decode()
        with CaptureQueriesContext(connection) as queries:
            kept = client.get(url)
        # For a moderator or staff, their permissions and the bell are queries of their own, not read
        # with the model (a built page: ~30).
        assert len(queries) <= 5, [q["sql"][:80] for q in queries]
        assert page_text(kept) == page_text(first) == page_text(_built(client, url, settings))
    assert 'data-testid="moderate-model"' not in client_of(make_user("fay")).get(url).content.decode()


# --- The page kept for one viewer (page_cache.keep_own): the creator, or someone with their own things on it.


@pytest.mark.parametrize("role", ["moderator", "staff"])
def test_someone_no_longer_a_moderator_or_staff_does_not_get_the_page_kept_for_them_as_one(
    model, creator, moderator, role
):
    person = moderator if role == "moderator" else make_user("erin", is_staff=True)
    theirs = 'data-testid="moderate-model"' if role == "moderator" else 'href="/admin/"'
    _draft_in_lineage(person, model, creator)  # theirs: a page kept for them alone either way
    url = model.get_absolute_url()
    client = client_of(person)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert theirs in client.get(url).content.decode()
    assert len(queries) <= 5, [q["sql"][:80] for q in queries]  # kept for them
    person.groups.clear()
    get_user_model().objects.filter(id=person.id).update(is_staff=False)
    assert theirs not in client.get(url).content.decode()


@pytest.fixture
def creators_browser(creator, settings):
    """The creator's browser (its forms posted without a CSRF token, as the test client allows)."""
    settings.COMMENT_MIN_ACCOUNT_AGE = 0
    client = Client()
    client.force_login(creator)
    return client


def test_the_creators_page_is_built_for_them_and_kept_for_them_alone(model, fan, creators_browser, settings):
    url = model.get_absolute_url()
    first = creators_browser.get(url)
    assert "owner-actions" in first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        kept = creators_browser.get(url)
    # The session and its person; the model with the own state, the bell's count and, for its
    # creator, when its versions and files changed (a built page costs about 30).
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]
    assert page_text(kept) == page_text(first) == page_text(_built(creators_browser, url, settings))
    assert "owner-actions" not in client_of(fan).get(url).content.decode()


@pytest.mark.parametrize(
    "own", [_draft_in_lineage, _draft_as_parent, _unpublished_model_in_lineage, _hidden_image]
)
def test_a_page_with_a_viewers_own_things_on_it_is_kept_for_them_alone(model, creator, fan, own, settings):
    own(fan, model, creator)
    url = model.get_absolute_url()
    viewer = client_of(fan)
    first = page_text(viewer.get(url))
    with CaptureQueriesContext(connection) as queries:
        kept = page_text(viewer.get(url))
    # As the creator's, and when the versions and files changed, read for them alone.
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]
    assert kept == first == page_text(_built(viewer, url, settings))
    assert page_text(client_of(make_user("dora")).get(url)) != kept  # theirs is not shown to others


def test_the_bell_on_a_moderators_kept_page_is_drawn_for_each_request(model, moderator, fan):
    url = model.get_absolute_url()
    client = client_of(moderator)
    client.get(url)  # kept for them
    notifications.notify(moderator, "follower", actor=fan, key="follow:kept", target_name=moderator.username)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert len(queries) <= 5, [q["sql"][:80] for q in queries]  # still the kept page
    bell = re.search(r'data-testid="notification-count">[^<]*<', page)
    assert bell and bell.group(0).endswith(">1<")


def test_what_the_creator_does_in_their_browser_shows_on_their_kept_page_at_once(
    model, creator, creators_browser
):
    url = model.get_absolute_url()
    creators_browser.get(url)  # kept for them
    comments.post_comment(creator, comments.find_target(creator, "model", model.id), "Sent by my script")
    # What they do elsewhere (a script, another browser) reaches this page within
    # ANONYMOUS_CACHE_SECONDS, as others' replies and reactions do...
    assert "Sent by my script" not in creators_browser.get(url).content.decode()

    posted = creators_browser.post(f"/comments/model/{model.id}/post", {"body": "Thanks, Bob"})
    assert posted.status_code < 400 and posted.cookies[page_cache.WROTE_COOKIE].value
    for _ in range(2):  # ...what they do in this browser shows at once, and stays
        page = creators_browser.get(url).content.decode()
        assert "Thanks, Bob" in page and "Sent by my script" in page


def test_a_comment_that_notifies_the_creator_shows_on_their_kept_page_at_once(model, fan, creators_browser):
    url = model.get_absolute_url()
    creators_browser.get(url)  # kept for them
    comments.post_comment(fan, comments.find_target(fan, "model", model.id), "Bob was here")
    page = creators_browser.get(url).content.decode()
    assert "Bob was here" in page  # their bell's count is in the key: the link in the bell shows it
    assert re.search(r'data-testid="notification-count">1<', page)


def test_a_version_a_tool_adds_shows_on_the_creators_kept_page_at_once(model, creators_browser):
    """Changes to the model's versions and files (a worker's step, a tool's upload) are in the key."""
    url = model.get_absolute_url()
    creators_browser.get(url)  # kept for them
    services.create_version(model=model, name="v2.0 from my script", base_model="SD 1.5")
    assert "v2.0 from my script" in creators_browser.get(url).content.decode()


def test_a_browsers_unsafe_requests_change_the_wrote_cookie_and_tools_get_none(
    model, creator, creators_browser
):
    target = f"/comments/model/{model.id}/post"
    values = {
        creators_browser.post(target, {"body": f"note {n}"}).cookies[page_cache.WROTE_COOKIE].value
        for n in range(2)
    }
    assert len(values) == 2
    assert page_cache.WROTE_COOKIE not in creators_browser.get(model.get_absolute_url()).cookies
    _, raw = ApiKey.create(user=creator, name="script")
    tool = Client(headers={"Authorization": f"Bearer {raw}"}).post(
        "/api/hub/comments",
        {"target_type": "model", "target_id": model.id, "body": "from a script"},
        content_type="application/json",
    )
    assert tool.status_code == 201 and page_cache.WROTE_COOKIE not in tool.cookies


def test_own_state_is_found_in_one_query_for_each_kind(model, creator, fan):
    assert not _own_state(fan, model)[0]
    with CaptureQueriesContext(connection) as queries:
        _own_state(fan, model)[0]
    assert len(queries) == 1
    _link_to_confirm(fan, model, creator)
    assert _own_state(fan, model)[0]
    assert not _own_state(make_user("dora"), model)[0]


def test_what_the_holes_show_comes_with_the_own_state_in_that_one_query(model, creator, fan):
    dora = make_user("dora")
    _comment(fan, model, creator)
    _reaction(dora, model, creator)
    _review(dora, model, creator)
    # The creator's own state is theirs whatever the checks say (they are not even asked).
    for viewer, commented, reviewed, theirs in (
        (fan, True, False, False),
        (dora, True, True, False),
        (creator, True, False, True),
    ):
        with CaptureQueriesContext(connection) as queries:
            own, values = _own_state(viewer, model)
        assert len(queries) == 1 and own is theirs
        assert (values["model_commented"], values["model_reviewed"]) == (commented, reviewed)
    assert not _own_state(make_user("erin"), model)[1]["model_commented"]


# --- The search page (page_cache.keep_signed_in_page): the same results for the same levels and blur.


def test_signed_in_viewers_share_one_search_page_with_their_own_header(model, fan, settings):
    url = "/search/?q=harbour"
    client_of(fan).get(url)  # built for the blank viewer and kept
    other = make_user("dora")
    notifications.notify(other, "follower", actor=fan, key="follow:test", target_name="dora")

    viewer = client_of(other)
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    html = kept.content.decode()
    assert "Kept Harbour" in html
    # The session and the user (with her levels); the bell of her header. No search.
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]
    assert 'data-testid="current-user">dora<' in html and ">bob<" not in html
    assert page_cache.VIEWER_PLACEHOLDER not in html and page_cache.TOKEN_PLACEHOLDER not in html
    assert page_text(kept) == page_text(_built(viewer, url, settings))  # her bell's unread count too

    # The header's search box keeps the query; the logout form's token is hers and works.
    assert 'name="q" value="harbour"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert viewer.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert 'data-testid="current-user"' not in viewer.get(url).content.decode()


def test_a_kept_search_page_lists_only_what_each_viewers_levels_list(creator, fan, settings):
    make_model(creator, name="Calm Harbour")
    make_model(creator, name="Spicy Harbour", nsfw_level=NsfwLevel.R)
    url = "/search/?q=harbour"
    everyday = client_of(fan).get(url).content.decode()
    bolder = make_user("dora")
    ViewerPreference.objects.create(user=bolder, browsing_levels=31, blur_mature=False)
    bold = client_of(bolder).get(url).content.decode()

    assert "Calm Harbour" in everyday and "Spicy Harbour" not in everyday
    assert "Calm Harbour" in bold and "Spicy Harbour" in bold
    # And each kept page goes to the next viewer of those levels, not to the other.
    assert "Spicy Harbour" not in client_of(make_user("erin")).get(url).content.decode()


def test_search_suggestions_are_kept_for_signed_in_viewers_too(model, fan):
    url = "/search/?q=harbour&fragment=suggestions"
    client_of(fan).get(url)
    viewer = client_of(make_user("dora"))
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    assert "Kept Harbour" in kept.content.decode()
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]  # the session and the user


def test_moderators_and_staff_get_their_search_page_built(model, moderator, settings):
    url = "/search/?q=harbour"
    client_of(make_user("dora")).get(url)
    staff = client_of(make_user("erin", is_staff=True))
    page = staff.get(url)
    assert 'href="/admin/"' in page.content.decode()  # outside the header's hole: not the kept page
    assert page_text(page) == page_text(_built(staff, url, settings))
    mod = client_of(moderator)
    assert page_text(mod.get(url)) == page_text(_built(mod, url, settings))


@pytest.mark.parametrize("url", ["/", "/models/", "/models/?sort=newest"])
def test_signed_in_viewers_share_browse_and_home_pages_with_their_own_header(url, model, fan, settings):
    client_of(fan).get(url)  # built for the blank viewer and kept
    viewer = client_of(make_user("dora"))
    with CaptureQueriesContext(connection) as queries:
        kept = viewer.get(url)
    html = kept.content.decode()
    assert "Kept Harbour" in html and 'data-testid="current-user">dora<' in html and ">bob<" not in html
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]  # the session, the user, her bell
    assert page_cache.VIEWER_PLACEHOLDER not in html and page_cache.TOKEN_PLACEHOLDER not in html
    assert page_text(kept) == page_text(_built(viewer, url, settings))


def test_the_browse_pages_level_picker_and_next_cards_are_each_viewers(creator, fan, settings):
    for n in range(3):
        make_model(creator, name=f"Harbour {n}")
    make_model(creator, name="Spicy Harbour", nsfw_level=NsfwLevel.R)
    client_of(fan).get("/models/")
    bolder = make_user("dora")
    ViewerPreference.objects.create(user=bolder, browsing_levels=31, blur_mature=True)
    bold = client_of(bolder)
    page = bold.get("/models/").content.decode()
    assert "Spicy Harbour" in page  # her levels, blurred: not the kept page of bob's levels
    picker = re.search(r'data-testid="level-picker".*?</details>', page, re.S).group(0)
    assert 'value="blur" checked' in picker
    assert page_text(bold.get("/models/")) == page_text(_built(bold, "/models/", settings))

    # "Load more": the next cards, kept for each levels too.
    url = "/models/?limit=2&fragment=cards"
    first = client_of(fan).get(url).content.decode()
    erin = client_of(make_user("erin"))
    with CaptureQueriesContext(connection) as queries:
        again = erin.get(url).content.decode()
    assert again == first and "Harbour" in again and "<html" not in again
    assert len(queries) <= 2, [q["sql"][:80] for q in queries]  # the session and the user
