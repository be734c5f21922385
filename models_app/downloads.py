"""Downloads: who may fetch a version, which file they get, counting, and the self-authorising file URL.

docs/downloads.md is the contract (CivitAI's /api/download/models/{versionId}); docs/hashes.md the
hash lookups. The views in download_views.py only parse requests and render these results.
"""

import hashlib
import hmac
import re
import unicodedata
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

import billing

from . import storage
from .dates import iso_z
from .levels import NsfwLevel, is_mature
from .models import (
    AIModel,
    DownloadRecord,
    EarlyAccessGrant,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelVersion,
    PublishStatus,
    ScanStatus,
    UsageControl,
)
from .selectors import can_manage, can_moderate
from .text import clean_filename

FILE_URL_MAX_AGE = 3600  # seconds a redirect target stays valid; clients follow it at once
FILE_URL_SALT = "models_app.downloads.file"

# CivitAI's defaults (getPrimaryFile): format weighs most, then size, then fp.
DEFAULT_FILE_PREFERENCES = {"size": "pruned", "fp": "fp16", "format": FileFormat.SAFETENSOR}
_PREFERENCE_WEIGHTS = {"format": 100, "size": 10, "fp": 1}
_MODEL_FILE_TYPES = (FileType.MODEL, FileType.PRUNED_MODEL)

# Every file of 1 MiB or less has this AutoV1 (the SHA-256 of zero bytes): it identifies nothing.
EMPTY_AUTOV1 = "E3B0C442"
_HEX = re.compile(r"[0-9A-F]+")
_MAX_RAW_HASH = 200


class DownloadRefused(Exception):
    """A download the caller may not have; carries the HTTP status and the JSON body clients expect."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


def not_found() -> DownloadRefused:
    return DownloadRefused(404, {"error": "File not found"})


# --- Who may download.


def member_may_open(perks, version: ModelVersion) -> bool:
    """Do these entitlements open `version`'s early access? Its chosen tiers if it names some, else
    any tier with the early-access perk."""
    if version.early_access_tiers:
        return bool(perks.tiers & set(version.early_access_tiers))
    return perks.early_access


def has_early_access(user, version: ModelVersion) -> bool:
    """May `user` download `version` now? Everyone once early access has ended; before that the
    creator, moderators, people holding a grant (bought, or given) and, when the version is open to
    members, users of the tiers it names (or, naming none, of any tier with the early-access perk)."""
    return early_access_of(user, [version])[version.id]


def early_access_of(user, versions) -> dict[int, bool]:
    """has_early_access for each of `versions` (a model page's): at most one query for the user's
    perks and one for their grants, whatever the number of versions."""
    found, pending = {}, []
    for version in versions:
        if not version.in_early_access():
            found[version.id] = True
        elif not user.is_authenticated:
            found[version.id] = False
        elif can_manage(user, version.model):
            found[version.id] = True
        else:
            pending.append(version)
    if any(v.early_access_members for v in pending):
        perks = billing.entitlements(user)
        for version in pending:
            if version.early_access_members and member_may_open(perks, version):
                # A member of a chosen tier, or of any tier with the perk (docs/billing.md#paid-early-access).
                found[version.id] = True
    pending = [v for v in pending if v.id not in found]
    if pending:
        granted = set(
            EarlyAccessGrant.objects.filter(user=user, version_id__in=[v.id for v in pending]).values_list(
                "version_id", flat=True
            )
        )
        for version in pending:
            found[version.id] = version.id in granted
    return found


def check_download_allowed(user, version: ModelVersion | None) -> None:
    """Raise DownloadRefused unless `user` may download `version`, in docs/downloads.md's order (the
    rate limit, step 1, is the view's: it needs the request).

    A draft answers 404 exactly like an unknown id, so nobody learns that it exists.
    """
    if version is None:
        raise not_found()
    model = version.model
    if PublishStatus.DELETED in (model.status, version.status):
        raise not_found()  # gone for everyone, its creator included (docs/editing.md)
    if PublishStatus.ARCHIVED in (model.status, version.status):
        raise DownloadRefused(410, {"error": "Model archived, not available for download"})
    published = model.status == PublishStatus.PUBLISHED and version.status == PublishStatus.PUBLISHED
    privileged = can_manage(user, model)
    if not published and not privileged:
        raise not_found()
    if NsfwLevel.BLOCKED in (model.nsfw_level, version.nsfw_level) and not privileged:
        raise not_found()  # a moderator's block: for its creator and moderators only
    if model.poi and (is_mature(model.nsfw_level) or is_mature(version.nsfw_level)) and not privileged:
        # A real person's content rated above PG-13 (docs/moderation.md#real-people-and-minors).
        raise DownloadRefused(
            403,
            {
                "error": "Forbidden",
                "message": "This model depicts a real person and is rated above PG-13; it can't be downloaded.",
            },
        )
    if version.usage_control != UsageControl.DOWNLOAD and not privileged:
        raise DownloadRefused(
            401,
            {
                "error": "Unauthorized",
                "message": "The creator of this asset has disabled downloads on this file",
            },
        )
    if model.require_login and not user.is_authenticated:
        raise DownloadRefused(
            401,
            {
                "error": "Unauthorized",
                "message": "The creator of this asset requires you to be logged in to download it",
            },
        )
    if not has_early_access(user, version):
        raise DownloadRefused(
            403,
            {
                "error": "Early Access",
                "deadline": iso_z(version.early_access_ends_at),
                "message": "This asset is in Early Access. Log in with an account that has access, "
                "or wait until the deadline.",
            },
        )


# --- Which file.


# Files whose bytes are stored, hashed and passed every scan; nothing else is ever served.
DOWNLOADABLE = Q(status=FileStatus.READY, scan_status=ScanStatus.CLEAN, blob__isnull=False)


def downloadable_files(version: ModelVersion) -> list[ModelFile]:
    """The version's DOWNLOADABLE files, oldest first."""
    return list(version.files.select_related("blob").filter(DOWNLOADABLE).order_by("id"))


def choose_file(version, *, file_id=None, type=None, format=None, size=None, fp=None) -> ModelFile | None:
    """The file a download request means (docs/downloads.md, step 8), or None.

    `fileId` names one file. Otherwise `type` must match when given (asking for the VAE must never
    return the checkpoint); format/size/fp, merged over the default preference, only rank the
    candidates, as CivitAI's getPrimaryFile does. With no parameters: the primary file.
    """
    return pick_file(downloadable_files(version), file_id=file_id, type=type, format=format, size=size, fp=fp)


def pick_file(files: list[ModelFile], *, file_id=None, type=None, format=None, size=None, fp=None):
    """choose_file's choice among `files` (already loaded), or None. The CivitAI-compatible API uses
    it to name the file each downloadUrl gives, without a query per file."""
    if file_id not in (None, ""):
        try:
            wanted = int(file_id)
        except (TypeError, ValueError):
            return None
        return next((f for f in files if f.id == wanted), None)
    asked = {"format": format or None, "size": size or None, "fp": fp or None}
    if not type and not any(asked.values()):
        primary = next((f for f in files if f.is_primary), None)
        if primary is not None:
            return primary
    if type:
        files = [f for f in files if f.type.lower() == str(type).lower()]
    if not files:
        return None
    explicit = {k: v for k, v in asked.items() if v}
    actual = {"format": lambda f: f.format, "size": lambda f: f.size_variant, "fp": lambda f: f.fp}

    def score(f: ModelFile, preferences: dict) -> int:
        return sum(
            weight
            for key, weight in _PREFERENCE_WEIGHTS.items()
            if key in preferences and str(actual[key](f)).lower() == str(preferences[key]).lower()
        )

    def rank(f: ModelFile):
        # What the caller asked for outweighs the defaults; the defaults only break ties.
        return (
            bool(type) or f.type in _MODEL_FILE_TYPES,
            score(f, explicit),
            score(f, DEFAULT_FILE_PREFERENCES),
            f.is_primary,
            -f.id,
        )

    return max(files, key=rank)


# --- Counting.


def visitor_for(*, user, address: str | None) -> str:
    """Who is downloading, for the once-a-day count: the user id, else a keyed hash of the address
    (HMAC with SECRET_KEY, so the stored value can't be reversed by hashing every IPv4 address)."""
    if user is not None and user.is_authenticated:
        return f"u:{user.id}"
    digest = hmac.new(settings.SECRET_KEY.encode(), (address or "").encode(), hashlib.sha256).hexdigest()
    return f"ip:{digest[:40]}"


# Sent for every download request served (each call of record_download below), counted or not:
# hub/metrics.py counts downloads with it (docs/operations.md#metrics).
download_requested = Signal()


def record_download(*, version: ModelVersion, visitor: str) -> bool:
    """Count one download of `version` by `visitor` today; True when it was counted.

    The unique (version, visitor, day) row decides: a repeat insert fails and nothing is counted, so
    two concurrent requests by the same visitor count once. The counters move with F() updates in
    the same transaction, so concurrent downloads by different visitors are never lost.
    """
    download_requested.send(sender=ModelVersion, version=version)
    try:
        with transaction.atomic():
            DownloadRecord.objects.create(version=version, visitor=visitor[:64], day=timezone.now().date())
            ModelVersion.objects.filter(id=version.id).update(download_count=F("download_count") + 1)
            AIModel.objects.filter(id=version.model_id).update(download_count=F("download_count") + 1)
    except IntegrityError:
        return False
    return True


# --- Filenames in headers (docs/hostile-input.md, item 14; docs/downloads.md#filenames).


def ascii_filename(name: str) -> str:
    """An ASCII label safe inside `filename="..."`: accents dropped (é → e), anything else that is
    not plain printable ASCII, and characters naive parsers split on, replaced with `_`."""
    out = []
    for ch in clean_filename(name):
        if ch in '"\\/;%' or not (0x20 <= ord(ch) < 0x7F):
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            ch = base if base and all(0x20 < ord(c) < 0x7F and c not in '"\\/;%' for c in base) else "_"
        out.append(ch)
    return "".join(out).strip(" .") or "download"


def attachment_value(name: str) -> str:
    """`attachment; filename="<ascii>"`: the exact form clients split on `filename=` (docs/downloads.md#the-redirect)."""
    return f'attachment; filename="{ascii_filename(name)}"'


def content_disposition(name: str, *, inline: bool = False) -> str:
    """The header for the file response: the ASCII fallback plus the real name per RFC 5987."""
    value = f"{attachment_value(name)}; filename*=UTF-8''{quote(clean_filename(name), safe='')}"
    return value.replace("attachment;", "inline;", 1) if inline else value


# --- The file URL the redirect points at.


def signed_file_path(model_file: ModelFile) -> str:
    """The hub's own self-authorising file URL (path and query). The signature names the file and
    expires after FILE_URL_MAX_AGE; it never carries the caller's API key (docs/hostile-input.md, item 21)."""
    sha = model_file.blob.sha256.lower()
    sig = signing.dumps({"f": model_file.id, "h": sha}, salt=FILE_URL_SALT)
    path = reverse("serve_file", kwargs={"sha256": sha, "name": clean_filename(model_file.name)})
    query = urlencode(
        {"sig": sig, "response-content-disposition": attachment_value(model_file.name)}, quote_via=quote
    )
    return f"{path}?{query}"


def read_file_signature(sig: str, sha256: str) -> int | None:
    """The file id a signature authorises for this sha256, or None when forged, expired or another file's."""
    try:
        payload = signing.loads(sig or "", salt=FILE_URL_SALT, max_age=FILE_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("h") != sha256.lower()
        or not isinstance(payload.get("f"), int)
    ):
        return None
    return payload["f"]


# Cache-Control of the file's bytes (docs/operations.md#downloads-behind-a-cdn). The bytes behind a
# content-addressed URL never change: browsers may keep them for a year. A shared cache (a CDN) may
# keep a file anyone may download for an hour, so a moderator's removal reaches it within the hour;
# any other file is private: only the browser that was allowed may keep it.
PUBLIC_FILE_CACHE = "public, max-age=31536000, s-maxage=3600, immutable"
PRIVATE_FILE_CACHE = "private, max-age=3600"


def file_cache_control(model_file: ModelFile) -> str:
    """PUBLIC_FILE_CACHE when an anonymous visitor may download the file's version, else private."""
    try:
        check_download_allowed(AnonymousUser(), model_file.version)
    except DownloadRefused:
        return PRIVATE_FILE_CACHE
    return PUBLIC_FILE_CACHE


def file_redirect_url(request, model_file: ModelFile) -> str:
    """Where the download endpoint redirects: a presigned GET on S3, else the hub's signed file URL.
    Absolute either way, as some clients fail on a relative Location. With DOWNLOAD_CDN_URL, the
    same URL on the CDN's origin: the CDN forwards it, signature and all, to S3 or the hub."""
    if storage.is_s3():
        url = storage.presigned_download_url(
            model_file.blob.storage_key,
            disposition=attachment_value(model_file.name),
            max_age=FILE_URL_MAX_AGE,
            cache_control=file_cache_control(model_file),
        )
    else:
        url = request.build_absolute_uri(signed_file_path(model_file))
    if settings.DOWNLOAD_CDN_URL:
        cdn = urlsplit(settings.DOWNLOAD_CDN_URL)
        target = urlsplit(url)
        url = urlunsplit((cdn.scheme, cdn.netloc, cdn.path.rstrip("/") + target.path, target.query, ""))
    return url


# --- Lookup by hash (docs/hashes.md#case-and-lookups).


def normalize_hash(raw) -> str | None:
    """Trim, drop a leading 0x, uppercase; None unless only hex digits remain."""
    if not isinstance(raw, str) or len(raw) > _MAX_RAW_HASH:
        return None
    value = raw.strip()
    if value[:2].lower() == "0x":
        value = value[2:]
    value = value.upper()
    return value if _HEX.fullmatch(value) else None


def _hash_filter(value: str) -> Q | None:
    n = len(value)
    if n == 8:
        if value == EMPTY_AUTOV1:
            return None
        swapped = "".join(reversed([value[i : i + 2] for i in range(0, 8, 2)]))
        return Q(blob__autov1=value) | Q(blob__crc32=value) | Q(blob__crc32=swapped)
    if n == 10:
        return Q(blob__sha256__startswith=value)
    if n == 12:
        return Q(blob__autov3__startswith=value) | Q(blob__sha256__startswith=value)
    if n == 64:
        return Q(blob__sha256=value) | Q(blob__blake3=value) | Q(blob__autov3=value)
    return None


def findable_versions(user, versions):
    """Published versions of published models; the creator's own and, for moderators, all."""
    versions = versions.exclude(status=PublishStatus.DELETED).exclude(model__status=PublishStatus.DELETED)
    if can_moderate(user):
        return versions
    visible = Q(status=PublishStatus.PUBLISHED, model__status=PublishStatus.PUBLISHED)
    visible &= ~Q(nsfw_level=NsfwLevel.BLOCKED) & ~Q(model__nsfw_level=NsfwLevel.BLOCKED)
    if user.is_authenticated:
        visible |= Q(model__owner=user)
    return versions.filter(visible)


# Several matches: the oldest published first, then the lowest id (docs/hashes.md#case-and-lookups).
_OLDEST_FIRST = (F("published_at").asc(nulls_last=True), "id")


def find_version_by_hash(user, raw_hash) -> ModelVersion | None:
    """The version holding a downloadable file with this hash that `user` may see, or None."""
    value = normalize_hash(raw_hash)
    match = _hash_filter(value) if value else None
    if match is None:
        return None
    # Example images are files of their version too, but a hash names a model file, as on CivitAI.
    file_versions = (
        ModelFile.objects.filter(match, status=FileStatus.READY)
        .exclude(type=FileType.IMAGE)
        .values("version_id")
    )
    versions = findable_versions(user, ModelVersion.objects.filter(id__in=file_versions))
    return versions.select_related("model", "base_model").order_by(*_OLDEST_FIRST).first()


def find_removed_version_by_hash(raw_hash) -> ModelVersion | None:
    """A version moderators removed (or whose model they removed) that was public and held a model
    file with this hash: its tombstone keeps the hash resolvable (docs/moderation.md#tombstones)."""
    value = normalize_hash(raw_hash)
    match = _hash_filter(value) if value else None
    if match is None:
        return None
    file_versions = (
        ModelFile.objects.filter(match, blob__isnull=False).exclude(type=FileType.IMAGE).values("version_id")
    )
    removed = Q(status=PublishStatus.REMOVED) | Q(model__status=PublishStatus.REMOVED)
    return (
        ModelVersion.objects.filter(removed, id__in=file_versions, published_at__isnull=False)
        .select_related("model", "base_model")
        .order_by(*_OLDEST_FIRST)
        .first()
    )


def find_versions_by_sha256(user, sha256s: list[str]) -> dict[str, int]:
    """{SHA256: version id} for the full, UPPERCASE SHA-256 digests given that belong to a
    downloadable file of a version `user` may see (CivitAI's POST by-hash takes SHA256 only).
    The same choice as find_version_by_hash when several versions hold the file; one query per
    thousand hashes."""
    found: dict[str, int] = {}
    unique = sorted(set(sha256s))
    versions = findable_versions(user, ModelVersion.objects.all())
    alias = router.db_for_read(ModelFile)  # the replica's, when there is one (hub/db_router.py)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            # Each statement is planned for its hashes: after five runs on a connection PostgreSQL may
            # keep a generic plan for a prepared statement, and for 1,000 hashes that plan took 17 s
            # instead of 10 ms (docs/performance.md#prepared-statements).
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        for start in range(0, len(unique), 1000):
            _find_batch(alias, unique[start : start + 1000], versions, found)
    return found


def _find_batch(alias: str, sha256s: list[str], versions, found: dict[str, int]) -> None:
    """Add {SHA256: version id} for up to 1,000 hashes to `found`, the earliest published first."""
    rows = (
        ModelFile.objects.using(alias)
        .filter(blob__sha256__in=sha256s, status=FileStatus.READY, version__in=versions)
        .exclude(type=FileType.IMAGE)
        .order_by(F("version__published_at").asc(nulls_last=True), "version_id")
        .values_list("blob__sha256", "version_id")
    )
    for sha256, version_id in rows:
        found.setdefault(sha256, version_id)
