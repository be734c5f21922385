"""A query built once (models_app/compiled.py) answers for whichever ids it is run with, as the ORM does."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app.compiled import Built
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_built_query_runs_with_each_callers_ids_and_keeps_its_other_parameters():
    alice, bob = make_user("alice"), make_user("bob", is_active=False)
    active = Built(
        lambda user_id: (
            get_user_model()
            .objects.filter(id=user_id, is_active=True, is_staff=False)
            .values_list("username")
        )
    )

    assert active.rows(alice.pk) == [("alice",)]
    assert active.rows(bob.pk) == []  # is_active=True stayed a parameter: True is no stand-in
    with CaptureQueriesContext(connection) as queries:
        assert active.rows(alice.pk) == [("alice",)]
    assert len(queries) == 1


def test_forget_builds_again_with_what_the_builder_reads_now():
    make_user("alice"), make_user("bob")
    wanted = ["alice"]
    named = Built(
        lambda user_id: get_user_model().objects.filter(username__in=list(wanted)).values_list("username")
    )
    assert named.rows(0) == [("alice",)]
    wanted[:] = ["bob"]
    assert named.rows(0) == [("alice",)]  # built once
    named.forget()
    assert named.rows(0) == [("bob",)]


def test_built_instances_are_the_querysets_own_with_related_rows_and_annotations(creator):
    from django.db.models import Value

    from models_app.models import AIModel
    from tests.factories import make_model

    model = make_model(creator, name="Ink Wash", tags=["ink", "wash"])
    AIModel.objects.filter(pk=model.pk).update(trigger_words=["inkwash", "brush"], rating=4.5)

    def build(pk):
        return AIModel.objects.select_related("owner").filter(pk=pk).annotate(shelf=Value("top"))

    built = Built(build).objects(model.pk)
    [orm] = build(model.pk)

    def fields(instance):
        return {k: v for k, v in instance.__dict__.items() if k != "_state"}

    assert len(built) == 1
    # Dates come back as aware datetimes and JSON as lists on SQLite too: the fields' converters ran.
    assert fields(built[0]) == fields(orm)
    assert built[0].trigger_words == ["inkwash", "brush"]
    with CaptureQueriesContext(connection) as queries:
        assert fields(built[0].owner) == fields(orm.owner)  # read with it, as select_related does
    assert len(queries) == 0
    assert built[0].shelf == "top"
    assert Built(build).objects(-5) == []


def test_visible_model_answers_as_visible_models_for_every_kind_of_viewer(client, creator, fan, moderator):
    from django.contrib.auth.models import AnonymousUser

    from models_app import selectors, services
    from models_app.levels import NsfwLevel
    from models_app.models import AIModel
    from tests.factories import make_model

    published = make_model(creator, name="Out There")
    draft = make_model(creator, name="Not Yet", publish=False)
    blocked = make_model(creator, name="Held Back")
    AIModel.objects.filter(pk=blocked.pk).update(nsfw_level=NsfwLevel.BLOCKED)
    gone = make_model(creator, name="Gone")
    services.delete_model(model=gone, by=creator)

    seen = {}
    for viewer in (AnonymousUser(), creator, fan, moderator):
        for model in (published, draft, blocked, gone):
            one = selectors.visible_model(viewer, model.pk)
            assert (one is not None) == selectors.visible_models(viewer).filter(pk=model.pk).exists()
            assert one is None or (one.pk, one.owner.username) == (model.pk, "alice")
            seen[str(viewer), model.name] = one is not None
    assert seen == {
        **{
            ("AnonymousUser", name): name == "Out There"
            for name in ("Out There", "Not Yet", "Held Back", "Gone")
        },
        **{("alice", name): name != "Gone" for name in ("Out There", "Not Yet", "Held Back", "Gone")},
        **{("bob", name): name == "Out There" for name in ("Out There", "Not Yet", "Held Back", "Gone")},
        **{("charlie", name): name != "Gone" for name in ("Out There", "Not Yet", "Held Back", "Gone")},
    }
    # An id from a URL that no database column can hold is no model, not a database error.
    assert selectors.visible_model(fan, 2**70) is None
    assert client.get(f"/models/{2**70}/x").status_code == 404
    assert client.get(f"/models/{published.pk}/{published.slug}").status_code == 200


def test_a_built_query_takes_text_keys_beside_ids():
    alice = make_user("alice")
    make_user("bob")
    named = Built(
        lambda user_id, name: get_user_model().objects.filter(id=user_id, username=name).values_list("email")
    )
    assert named.rows(alice.pk, "alice") == [("alice@example.com",)]
    assert named.rows(alice.pk, "bob") == []
    assert [
        u.username for u in Built(lambda name: get_user_model().objects.filter(username=name)).objects("bob")
    ] == ["bob"]
