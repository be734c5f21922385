"""Fixtures of the moderation tests: a published model, a second moderator, clients signed in."""

import pytest
from django.test import Client

from moderation.roles import grant_moderator
from tests.factories import make_user, publish_model


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_comment(user, version, body: str):
    """A comment on the version's model, through the service people use."""
    from community import comments

    return comments.post_comment(user, comments.find_target(user, "model", version.model_id), body)


def post_json(client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def version(creator, run_on_commit):
    """alice's published model "Tiny Watercolor", its version and its ready file."""
    return publish_model(creator, run_on_commit)


@pytest.fixture
def moderator2(db):
    user = make_user("dana")
    grant_moderator(user=user)
    return user
