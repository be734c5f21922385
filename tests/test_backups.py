"""`manage.py export_catalog` / `import_catalog` (issue 17 part 10, docs/backups.md): a seeded hub
survives export, an emptied database and import with the same pages and API answers; a backup whose
bytes are missing or altered is refused with the list of them and nothing imported."""

import io
import json
import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import LedgerEntry
from hub import backups
from models_app.models import AIModel, ContentBlob, ModelFile, ModelVersion
from models_app.storage import model_storage
from resources.models import Image
from tests.factories import make_model

pytestmark = pytest.mark.django_db(transaction=True)


def export(path) -> list[dict]:
    call_command("export_catalog", str(path), stderr=io.StringIO())
    return [json.loads(line) for line in path.read_text().splitlines()]


def import_(path) -> str:
    out = io.StringIO()
    call_command("import_catalog", str(path), stdout=out)
    return out.getvalue()


def empty_database():
    call_command("flush", interactive=False, verbosity=0)


def counts() -> dict[str, int]:
    return {t.name: t.model._base_manager.count() for t in backups.TYPES if t.name != "user"}


def answers(client) -> dict[str, str]:
    """What visitors and tools see: the API answers and the public pages of every model."""
    urls = [
        "/api/v1/models?limit=100&nsfw=true",
        "/api/v1/models?query=watercolor",
        "/api/v1/models?tag=vae",
        "/api/v1/images?limit=100",
        "/api/v1/tags?limit=100",
        "/",
    ]
    for model in AIModel.objects.order_by("id"):
        urls += [f"/api/v1/models/{model.id}", model.get_absolute_url()]
    for sha256 in ModelFile.objects.exclude(blob=None).values_list("blob__sha256", flat=True):
        urls.append(f"/api/v1/model-versions/by-hash/{sha256}")
    seen = {}
    for url in urls:
        response = client.get(url)
        body = response.content.decode()
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|data-csrf="[^"]+"', "", body)
        body = re.sub(
            r"\bnow\b|\b(\d+|an?)\s+(second|minute)s?\s+ago", "moments ago", body
        )  # the clock moved on
        seen[url] = (response.status_code, body)
    return seen


def seed_with_money():
    call_command("seed_demo", stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    payer = get_user_model().objects.create_user("payer", "payer@example.com", "pw")
    LedgerEntry.objects.create(
        kind="payment", user=payer, creator_id=demo.id, amount=500, currency="usd", stripe_object_id="cs_1",
        reference="tip",
    )  # fmt: skip
    LedgerEntry.objects.create(
        kind="refund", user=payer, creator_id=demo.id, amount=-500, currency="usd", stripe_object_id="re_1",
        reference="tip",
    )  # fmt: skip


def test_a_seeded_hub_round_trips_through_export_an_empty_database_and_import(base_models, client, tmp_path):
    seed_with_money()
    before_counts, before_answers = counts(), answers(client)
    ledger_before = list(LedgerEntry.objects.values())
    assert "Tiny Watercolor" in before_answers["/api/v1/models?query=watercolor"][1]  # search answers too
    lines = export(tmp_path / "catalog.jsonl")

    header = lines[0]
    assert (header["type"], header["format"], header["version"]) == (
        "header",
        backups.FORMAT,
        backups.VERSION,
    )
    assert {line["type"] for line in lines[1:]} >= {
        "user",
        "model",
        "version",
        "file",
        "blob",
        "image",
        "ledger",
    }
    users = [line["fields"] for line in lines if line["type"] == "user"]
    assert {"demo", "payer"} <= {u["username"] for u in users}
    assert all("password" not in u for u in users)  # no password hashes leave the hub

    empty_database()
    assert AIModel.objects.count() == 0 and LedgerEntry.objects.count() == 0
    message = import_(tmp_path / "catalog.jsonl")

    assert "Imported" in message
    assert counts() == before_counts
    assert list(LedgerEntry.objects.values()) == ledger_before
    assert answers(client) == before_answers
    demo = get_user_model().objects.get(username="demo")
    assert not demo.has_usable_password()  # people set a new one through "forgot password"
    # The hub goes on: new rows get new ids after the imported ones.
    assert ModelVersion.objects.create(
        model=AIModel.objects.first(), name="v-next", base_model=ModelVersion.objects.first().base_model
    ).id > max(v["pk"] for v in lines if v["type"] == "version")
    assert Image.objects.count() == before_counts["image"]


def test_a_backup_whose_bytes_are_missing_or_altered_is_refused_listing_them_and_nothing_is_imported(
    base_models, creator, tmp_path
):
    make_model(creator, name="Gone", content=os.urandom(500), filename="a.txt", type="Other")
    make_model(creator, name="Altered", content=os.urandom(500), filename="b.txt", type="Other")
    export(tmp_path / "catalog.jsonl")
    gone, altered = ContentBlob.objects.order_by("id")
    model_storage().delete(gone.storage_key)
    model_storage().delete(altered.storage_key)
    model_storage().save(altered.storage_key, ContentFile(b"not what was uploaded"))
    empty_database()

    with pytest.raises(CommandError) as refused:
        import_(tmp_path / "catalog.jsonl")

    text = str(refused.value)
    assert "Blobs not in storage as the catalog records them (2); nothing was imported" in text
    assert f"missing: {gone.storage_key}" in text
    assert f"wrong bytes: {altered.storage_key}" in text and altered.sha256 in text
    assert AIModel.objects.count() == 0 and ContentBlob.objects.count() == 0
    assert get_user_model().objects.count() == 0


def test_an_import_into_a_database_that_holds_content_is_refused_and_changes_nothing(
    base_models, creator, tmp_path
):
    make_model(creator, content=os.urandom(500), filename="a.txt", type="Other")
    export(tmp_path / "catalog.jsonl")

    with pytest.raises(CommandError, match="The database is not empty"):
        import_(tmp_path / "catalog.jsonl")

    assert AIModel.objects.count() == 1 and ModelFile.objects.count() == 1


def test_a_blob_pointing_outside_its_content_key_is_refused_before_storage_is_asked(tmp_path):
    header = json.dumps({"type": "header", "format": backups.FORMAT, "version": 1})
    blob = {
        "sha256": "AB" * 32,
        "size": 5,
        "storage_key": "../../etc/passwd",
        "autov1": "",
        "crc32": "",
        "blake3": "",
    }
    path = tmp_path / "catalog.jsonl"
    path.write_text(header + "\n" + json.dumps({"type": "blob", "pk": 1, "fields": blob}) + "\n")

    with pytest.raises(CommandError, match=r"not a content key: '\.\./\.\./etc/passwd'"):
        import_(path)
    assert ContentBlob.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("", "The backup is empty"),
        ('{"type": "row"}\n', "Line 1 is not the header"),
        (json.dumps({"type": "header", "format": backups.FORMAT, "version": 99}) + "\n", "format version 99"),
        (
            json.dumps({"type": "header", "format": backups.FORMAT, "version": 1}) + "\n{not json\n",
            "Line 2 is not JSON",
        ),
        (
            json.dumps({"type": "header", "format": backups.FORMAT, "version": 1})
            + '\n{"type": "password", "pk": 1, "fields": {}}\n',
            "Line 2 is not a catalog row",
        ),
    ],
    ids=["empty", "no-header", "future-version", "bad-json", "unknown-type"],
)
def test_a_file_that_is_not_a_backup_is_refused_with_the_line_that_is_wrong(tmp_path, content, error):
    path = tmp_path / "catalog.jsonl"
    path.write_text(content)
    with pytest.raises(CommandError, match=error):
        import_(path)


def test_a_missing_backup_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Can't read"):
        import_(tmp_path / "nowhere.jsonl")
