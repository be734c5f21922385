"""Tombstones (docs/moderation.md#tombstones): a version moderators removed stays resolvable by hash,
with status "removed", its public facts and no download; a hidden (pending review) one is not found."""

import pytest
from django.test import Client

from models_app.models import ModelFile
from moderation import services

pytestmark = pytest.mark.django_db


def sha256_of(version) -> str:
    return ModelFile.objects.filter(version=version).exclude(type="Image").get().blob.sha256


def test_a_removed_version_answers_by_hash_with_its_facts_and_no_download(version, moderator):
    sha256 = sha256_of(version)
    services.act(
        moderator=moderator,
        target_type="version",
        target_id=version.id,
        action="remove",
        reason="Stolen weights.",
    )
    for lookup in (sha256, sha256[:10], sha256.lower()):
        answer = Client().get(f"/api/v1/model-versions/by-hash/{lookup}")
        assert answer.status_code == 200
        data = answer.json()
        assert (data["id"], data["status"], data["downloadUrl"], data["images"]) == (
            version.id,
            "removed",
            None,
            [],
        )
        assert data["trainedWords"] == ["tiny"] and data["model"]["name"] == version.model.name
        assert data["files"][0]["hashes"]["SHA256"] == sha256 and data["files"][0]["downloadUrl"] is None
        assert "allowCommercialUse" in data
    assert Client().get(f"/api/download/models/{version.id}").status_code in (403, 404, 410)
    assert Client().get(f"/api/v1/model-versions/{version.id}").status_code == 404  # only by hash


def test_a_removed_model_leaves_tombstones_and_a_restore_brings_the_version_back(version, moderator):
    sha256 = sha256_of(version)
    action = {
        "moderator": moderator,
        "target_type": "model",
        "target_id": version.model_id,
        "reason": "Taken down.",
    }
    services.act(action="remove", **action)
    assert Client().get(f"/api/v1/model-versions/by-hash/{sha256}").json()["status"] == "removed"
    services.act(action="restore", **action)
    restored = Client().get(f"/api/v1/model-versions/by-hash/{sha256}").json()
    assert restored["status"] == "Published" and restored["downloadUrl"]


def test_content_hidden_pending_review_is_not_found_by_hash(version, moderator):
    sha256 = sha256_of(version)
    services.act(
        moderator=moderator, target_type="version", target_id=version.id, action="hide", reason="Checking."
    )
    assert Client().get(f"/api/v1/model-versions/by-hash/{sha256}").status_code == 404
