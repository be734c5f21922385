"""hub/url_memo.py: a path's view and arguments are remembered after the first time it resolves."""

import pytest
from django.urls import Resolver404, get_resolver, resolve

from hub import url_memo
from hub.urls import urlpatterns


def memo():
    """What the hub's resolver kept, by path (without the leading slash, which the root takes)."""
    (resolver,) = [p for p in get_resolver().url_patterns if isinstance(p, url_memo.RememberingResolver)]
    return resolver._memo


def test_a_path_resolves_to_the_same_view_each_time_and_a_view_changing_its_arguments_changes_nothing():
    first = resolve("/models/42/kept-harbour")
    assert "models/42/kept-harbour" in memo()
    first.kwargs["pk"] = 7  # as a view or middleware might
    second = resolve("/models/42/kept-harbour")
    assert (second.url_name, second.namespaces, second.kwargs) == (
        "model_detail_slug",
        ["models_app"],
        {"pk": 42, "slug": "kept-harbour"},
    )
    assert second.func is first.func and second is not first


def test_a_path_that_matches_nothing_is_a_404_each_time_and_is_not_kept(client):
    for _ in range(2):
        with pytest.raises(Resolver404):
            resolve("/no/such/page/anywhere")
        assert client.get("/no/such/page/anywhere").status_code == 404
    assert "no/such/page/anywhere" not in memo()


def test_the_memo_starts_over_when_full(monkeypatch):
    monkeypatch.setattr(url_memo, "MEMO_SIZE", 3)
    memo().clear()
    for pk in range(5):
        assert resolve(f"/models/{pk}").kwargs == {"pk": pk}
    assert len(memo()) <= 3 and "models/4" in memo()


def test_the_root_urlconf_is_the_remembering_resolver_over_every_pattern():
    (root,) = urlpatterns
    assert isinstance(root, url_memo.RememberingResolver) and len(root.url_patterns) > 20
