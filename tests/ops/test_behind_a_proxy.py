"""Behind a reverse proxy (docs/operations.md#behind-a-proxy): per-address limits count the visitor's
address from X-Forwarded-For, as far as TRUSTED_PROXY_HOPS proxies vouch for it, and no further."""

import pytest

from tests.factories import publish_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(creator, run_on_commit, settings):
    settings.DOWNLOAD_RATE_LIMIT = 1  # one download a minute per address: the address is visible
    return publish_model(creator, run_on_commit)


def download(client, version, forwarded_for):
    return client.get(
        f"/api/download/models/{version.id}",
        headers={"X-Forwarded-For": forwarded_for},
        REMOTE_ADDR="10.0.0.2",
    ).status_code


def test_behind_one_proxy_each_visitor_has_their_own_limit(client, version, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert download(client, version, "203.0.113.7") == 307
    assert download(client, version, "198.51.100.9") == 307
    assert download(client, version, "203.0.113.7") == 429


def test_what_a_visitor_writes_left_of_the_proxys_entry_is_not_believed(client, version, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert download(client, version, "1.1.1.1, 203.0.113.7") == 307
    assert download(client, version, "2.2.2.2, 203.0.113.7") == 429


def test_two_proxies_vouch_for_the_second_entry_from_the_right(client, version, settings):
    settings.TRUSTED_PROXY_HOPS = 2
    assert download(client, version, "203.0.113.7, 10.0.0.1") == 307
    assert download(client, version, "198.51.100.9, 10.0.0.1") == 307
    assert download(client, version, "203.0.113.7, 10.0.0.1") == 429


def test_without_trusted_proxies_the_header_is_ignored(client, version, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    assert download(client, version, "203.0.113.7") == 307
    assert download(client, version, "198.51.100.9") == 429  # the same connecting address


def test_a_malformed_or_short_header_leaves_the_connecting_address(client, version, settings):
    settings.TRUSTED_PROXY_HOPS = 2
    assert download(client, version, "not-an-address, 10.0.0.1") == 307
    assert download(client, version, "203.0.113.7") == 429  # too short: both count as 10.0.0.2
