"""The catalog backup: `manage.py export_catalog` and `manage.py import_catalog` (docs/backups.md).

The metadata of the catalog (accounts that rows name, models, versions, files and their hashes,
images, comments, reviews, tips and the ledger) as JSON lines: a header line naming the format and
its version, then one object a line, `{"type": ..., "pk": ..., "fields": {...}}`, in an order where
every row comes after the rows it points at. The bytes stay where they are (the bucket or MEDIA_ROOT
is backed up with the storage's own tools); an import checks every blob the catalog names against
its SHA-256 before it writes a row, then writes everything in one transaction.

It lives in hub/ because it spans the apps, like seed_demo.
"""

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import serializers
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from models_app import storage
from models_app.models import ContentBlob

FORMAT = "model-hub-catalog"
VERSION = 1


@dataclass(frozen=True)
class RowType:
    name: str  # the "type" of its lines
    label: str  # app_label.ModelName
    merge: bool = False  # reference rows a fresh database may already hold (from migrations)

    @property
    def model(self):
        return apps.get_model(self.label)


USER = RowType("user", settings.AUTH_USER_MODEL)
# In dependency order: an import inserts them in this order.
TYPES = [
    USER,
    RowType("base_model", "models_app.BaseModel", merge=True),
    RowType("tag", "models_app.Tag", merge=True),
    RowType("blob", "models_app.ContentBlob"),
    RowType("model", "models_app.AIModel"),
    RowType("former_slug", "models_app.FormerSlug"),
    RowType("version", "models_app.ModelVersion"),
    RowType("file", "models_app.ModelFile"),
    RowType("funding_goal", "models_app.FundingGoal"),
    RowType("early_access_grant", "models_app.EarlyAccessGrant"),
    RowType("post", "resources.Post"),
    RowType("image", "resources.Image"),
    RowType("image_version", "resources.ImageVersion"),
    RowType("image_resource", "resources.ImageResource"),
    RowType("profile", "community.Profile"),
    RowType("version_parent", "community.VersionParent"),
    RowType("lineage_rejection", "community.LineageRejection"),
    RowType("comment", "community.Comment"),
    RowType("reaction", "community.Reaction"),
    RowType("review", "community.Review"),
    RowType("tip", "billing.Tip"),
    RowType("ledger", "billing.LedgerEntry"),
]
BY_NAME = {t.name: t for t in TYPES}
# What an account carries in a backup: no password hash, no staff or moderator rights
# (docs/backups.md#accounts). Imported accounts get an unusable password and reset it by email.
USER_FIELDS = ["username", "email", "first_name", "last_name", "is_active", "date_joined"]


class _Encoder(serializers.json.DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps them whole (rows order by them)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class CatalogError(Exception):
    """The backup can't be imported; the message says why and lists what is wrong."""


# --- Export


def _user_fields(model) -> list:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        f for f in model._meta.get_fields() if f.is_relation and f.concrete and f.related_model is user_model
    ]


def referenced_user_ids() -> set[int]:
    """Every account a catalog row names: owners, authors, payers, mentions, the ledger's creators."""
    ids: set[int] = set()
    for row_type in TYPES[1:]:
        model = row_type.model
        for field in _user_fields(model):
            ids.update(
                model.objects.exclude(**{f"{field.name}__isnull": True}).values_list(field.name, flat=True)
            )
    ledger = BY_NAME["ledger"].model
    ids.update(ledger.objects.exclude(creator_id__isnull=True).values_list("creator_id", flat=True))
    tip_model = BY_NAME["tip"].model
    ids.update(tip_model.objects.values_list("creator_id", flat=True))
    return ids


def export_lines() -> Iterator[str]:
    """The catalog as JSON lines, header first."""
    querysets = {t.name: t.model._base_manager.order_by("pk") for t in TYPES}
    user_ids = referenced_user_ids()
    querysets["user"] = querysets["user"].filter(pk__in=user_ids)
    header = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "counts": {name: qs.count() for name, qs in querysets.items()},
    }
    yield json.dumps(header)
    for row_type in TYPES:
        only = USER_FIELDS if row_type is USER else None
        for obj in querysets[row_type.name].iterator(chunk_size=500):
            (data,) = serializers.serialize("python", [obj], fields=only)
            yield json.dumps(
                {"type": row_type.name, "pk": data["pk"], "fields": data["fields"]},
                cls=_Encoder,
                ensure_ascii=False,
            )


# --- Import


def read_lines(lines: Iterable[str]) -> dict[str, list[dict]]:
    """Parse a backup into {type: [rows]}; raises CatalogError naming the first bad line."""
    rows: dict[str, list[dict]] = {t.name: [] for t in TYPES}
    header = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise CatalogError(f"Line {number} is not JSON: {exc}.") from None
        if not isinstance(item, dict):
            raise CatalogError(f"Line {number} is not a JSON object.")
        if header is None:
            if item.get("type") != "header" or item.get("format") != FORMAT:
                raise CatalogError(f"Line 1 is not the header of a {FORMAT} backup.")
            if item.get("version") != VERSION:
                raise CatalogError(
                    f"This backup is format version {item.get('version')!r}; this hub reads version {VERSION}."
                )
            header = item
            continue
        row_type = BY_NAME.get(item.get("type"))
        if row_type is None or not isinstance(item.get("fields"), dict) or "pk" not in item:
            raise CatalogError(f"Line {number} is not a catalog row (unknown type {item.get('type')!r}).")
        rows[row_type.name].append(item)
    if header is None:
        raise CatalogError("The backup is empty: it has no header line.")
    return rows


def check_empty() -> None:
    """Refuse to import over content: the import inserts, never updates (the ledger is append-only)."""
    held = [
        f"{t.model._base_manager.count()} {t.name} rows"
        for t in TYPES
        if not t.merge and t.model._base_manager.exists()
    ]
    if held:
        raise CatalogError(
            "The database is not empty (it holds " + ", ".join(held) + "). Import into a new database, "
            "or empty this one with `manage.py flush`."
        )


def check_blobs(blob_rows: list[dict], chunk_size: int = storage.STREAM_CHUNK) -> list[str]:
    """Problems with the stored bytes of the catalog's blobs: each present blob is read once and its
    SHA-256 compared with the catalog's. Released blobs (their bytes deleted on purpose) are skipped."""
    problems = []
    for row in blob_rows:
        fields = row["fields"]
        if fields.get("released_at"):
            continue
        key, expected = fields.get("storage_key"), str(fields.get("sha256") or "").upper()
        if not re.fullmatch(r"[0-9A-F]{64}", expected) or key != ContentBlob.key_for(expected):
            # Blobs live at the key of their hash; any other key (a path elsewhere in the bucket or
            # on disk) is refused before storage is asked about it (docs/backups.md#import).
            problems.append(f"not a content key: {key!r} for SHA-256 {expected!r}")
            continue
        try:
            if not storage.model_storage().exists(key):
                problems.append(f"missing: {key} (SHA-256 {expected})")
                continue
            digest = hashlib.sha256()
            for chunk in storage.iter_object(key, chunk_size):
                digest.update(chunk)
        except Exception as exc:  # storage refused to read it: report it with the others
            problems.append(f"unreadable: {key} ({exc})")
            continue
        if digest.hexdigest().upper() != expected:
            problems.append(
                f"wrong bytes: {key} has SHA-256 {digest.hexdigest().upper()}, the catalog says {expected}"
            )
    return problems


def _merge_reference(row_type: RowType, items: list[dict]) -> list[dict]:
    """Rows of a reference table that the database lacks; one it holds with another name is a conflict."""
    existing = dict(row_type.model._base_manager.values_list("pk", "name"))
    fresh = []
    for item in items:
        name = existing.get(item["pk"])
        if name is None:
            fresh.append(item)
        elif name != item["fields"].get("name"):
            raise CatalogError(
                f"{row_type.name} {item['pk']} is {name!r} here but {item['fields'].get('name')!r} in the backup."
            )
    return fresh


def import_rows(rows: dict[str, list[dict]]) -> dict[str, int]:
    """Insert every row, in one transaction: all of them, or none. Returns the count of each type."""
    check_empty()
    problems = check_blobs(rows["blob"])
    if problems:
        raise CatalogError(
            f"Blobs not in storage as the catalog records them ({len(problems)}); nothing was imported:\n  "
            + "\n  ".join(problems)
        )
    unusable = make_password(None)
    counts = {}
    with transaction.atomic():
        for row_type in TYPES:
            items = rows[row_type.name]
            if row_type.merge:
                items = _merge_reference(row_type, items)
            for item in items:
                fields = item["fields"]
                if row_type is USER:
                    fields = {k: v for k, v in fields.items() if k in USER_FIELDS} | {"password": unusable}
                data = [{"model": row_type.label, "pk": item["pk"], "fields": fields}]
                try:
                    for obj in serializers.deserialize("python", data):
                        obj.save(force_insert=True)  # insert only, whatever the model's save() does
                except Exception as exc:  # a row the schema refuses: name it, undo everything
                    raise CatalogError(f"{row_type.name} {item['pk']} could not be imported: {exc}") from exc
            counts[row_type.name] = len(items)
        models = [t.model for t in TYPES]
        try:
            connection.check_constraints(table_names=[m._meta.db_table for m in models])
        except IntegrityError as exc:  # a row names one the backup lacks
            raise CatalogError(f"The backup is incomplete: {exc}") from exc
        with connection.cursor() as cursor:  # new rows must not reuse the imported ids
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    return counts
