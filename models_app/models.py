"""The catalog: AI models, their versions, the files of a version and the stored bytes behind them."""

import re
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .levels import DEFAULT_MASK, NsfwLevel, is_mature
from .text import render_markdown

# The length limits of what creators write, in one place: the fields below carry them, and the web
# forms (forms.py), the API (api.py) and the services read them from here, so the same text is
# accepted or refused everywhere, with the limit named in the error. Tags: TAG_MAX_LENGTH, below.
MAX_MODEL_NAME_LENGTH = 200
MAX_VERSION_NAME_LENGTH = 120
MAX_TRIGGER_WORD_LENGTH = 200
MAX_LICENSE_LENGTH = 120
# Model and version descriptions. 20,000 characters leave room for a long model page (install notes,
# recommended settings, changelogs, a table of prompts) and bound what one save costs: rendering is
# linear, and the slowest adversarial 20,000 characters measured render in about half a second on a
# 2-core machine (bench/bench_markdown.py), once, when the text is written. Rows saved before the
# limit existed may be longer; they are shown as they are, and must be shortened when next edited.
MAX_DESCRIPTION_LENGTH = 20_000


def validate_description_length(text: str) -> None:
    MaxLengthValidator(MAX_DESCRIPTION_LENGTH)(text)


class HasDescription:
    """A row with a Markdown `description` and `description_html`, the sanitised HTML that pages and
    APIs show. Rendering happens here, when the text is written, and never when it is read
    (docs/hostile-input.md, item 13)."""

    def set_description(self, text: str) -> None:
        """The one way to change a description: refuses text over MAX_DESCRIPTION_LENGTH before
        rendering it, then stores the text and its HTML together (save() is the caller's)."""
        text = text or ""
        try:
            validate_description_length(text)
        except ValidationError as exc:
            raise ValidationError({"description": exc.messages}) from None
        self.description = text
        self.description_html = render_markdown(text)


class ModelType(models.TextChoices):
    """CivitAI's model types; the values are what its API sends, so clients understand them."""

    CHECKPOINT = "Checkpoint", "Checkpoint"
    TEXTUAL_INVERSION = "TextualInversion", gettext_lazy("Embedding")
    HYPERNETWORK = "Hypernetwork", "Hypernetwork"
    AESTHETIC_GRADIENT = "AestheticGradient", gettext_lazy("Aesthetic Gradient")
    LORA = "LORA", "LoRA"
    LOCON = "LoCon", "LyCORIS"
    DORA = "DoRA", "DoRA"
    CONTROLNET = "Controlnet", "ControlNet"
    POSES = "Poses", gettext_lazy("Poses")
    UPSCALER = "Upscaler", gettext_lazy("Upscaler")
    MOTION_MODULE = "MotionModule", gettext_lazy("Motion Module")
    VAE = "VAE", "VAE"
    WILDCARDS = "Wildcards", gettext_lazy("Wildcards")
    WORKFLOWS = "Workflows", gettext_lazy("Workflows")
    DETECTION = "Detection", gettext_lazy("Detection")
    OTHER = "Other", gettext_lazy("Other")


class UsageControl(models.TextChoices):
    """CivitAI's usageControl: anything but Download means the creator has disabled downloads."""

    DOWNLOAD = "Download", pgettext_lazy("usage control", "Download")
    GENERATION = "Generation", gettext_lazy("On-site generation only")
    INTERNAL_GENERATION = "InternalGeneration", gettext_lazy("Internal generation only")
    EXTERNAL_GENERATION = "ExternalGeneration", gettext_lazy("External generation only")


# What a creator may choose today. The generation-only options need an on-site generator the hub does
# not have yet, so forms and the API don't offer them; versions that carry one keep it (downloads stay
# disabled) and every reader still shows it.
ON_SITE_GENERATION = {UsageControl.GENERATION, UsageControl.INTERNAL_GENERATION}
OFFERED_USAGE_CONTROLS = [(v, label) for v, label in UsageControl.choices if v not in ON_SITE_GENERATION]


class PublishStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    PUBLISHED = "published", gettext_lazy("Published")
    UNPUBLISHED = "unpublished", gettext_lazy("Unpublished")
    ARCHIVED = "archived", gettext_lazy("Archived")
    # Deleting is a status, not a row removal (docs/editing.md): the row stays for the audit trail and
    # the counters, but nobody sees it any more, its creator included.
    DELETED = "deleted", gettext_lazy("Deleted")
    # Set by moderators only (models_app.services.set_moderation_status, docs/moderation.md): out of
    # every listing, search, API and download like an unpublished row; its creator still sees it, with
    # the moderator's reason, and cannot publish it again. "removed" is a takedown; "hidden" pending review.
    HIDDEN = "hidden", gettext_lazy("Hidden by moderators")
    REMOVED = "removed", gettext_lazy("Removed by moderators")


# The statuses only a moderator sets or lifts.
MODERATED_STATUSES = (PublishStatus.HIDDEN, PublishStatus.REMOVED)


TAG_MAX_LENGTH = 60
# Characters a tag keeps: letters and digits of any script, spaces and a few joiners ("sd1.5",
# "sci-fi", "c++", "r&b"). Anything else, "/" above all, would break the tag's own URL (/tag/<name>).
_TAG_UNSAFE = re.compile(r"[^\w .+&'#-]")


def normalize_tag(raw) -> str:
    """The one safe form of a tag name, used on every write and every lookup: NFKC, lowercase, other
    characters turned into spaces ("sd1.5/anime" -> "sd1.5 anime"), single spaces, at most 60
    characters, no leading or trailing dots (a tag ".." would be a path segment). May be empty."""
    text = _TAG_UNSAFE.sub(" ", unicodedata.normalize("NFKC", str(raw)).lower())
    return " ".join(text.split())[:TAG_MAX_LENGTH].strip(" .")


class Tag(models.Model):
    name = models.CharField(max_length=TAG_MAX_LENGTH, unique=True)  # always normalize_tag()'s form

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Every path that writes a tag (services, the admin) stores the safe form.
        self.name = normalize_tag(self.name)
        super().save(*args, **kwargs)


class BaseModel(models.Model):
    """The model family a version was trained on ("SD 1.5", "SDXL 1.0", "Flux.1 D").

    A table, not an enum: new families appear every month and operators add them in the admin.
    """

    name = models.CharField(max_length=60, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Order in menus; lower comes first.")
    is_active = models.BooleanField(default=True, help_text="Offered for new uploads.")
    # The family's licence terms (docs/moderation.md#licence-check): what a fine-tune of it may allow.
    # Empty name and every use allowed: terms unknown, nothing is checked.
    license_name = models.CharField(max_length=120, blank=True, db_default="")
    license_url = models.URLField(blank=True, db_default="")
    allows_commercial_images = models.BooleanField(
        default=True, db_default=True, help_text="Its licence lets people sell images made with it."
    )
    allows_commercial_rent = models.BooleanField(
        default=True, db_default=True, help_text="Its licence lets it run on paid generation services."
    )
    allows_commercial_sell = models.BooleanField(
        default=True, db_default=True, help_text="Its licence lets it, or fine-tunes of it, be sold."
    )

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


# Content depicting a real person is never rated above PG-13 (docs/moderation.md#real-people-and-minors);
# Blocked, a moderator's decision, stays possible.
REAL_PERSON_LEVEL_RULE = gettext_lazy(
    "This model depicts a real person: it can't be rated above PG-13 (rule: real people)."
)


def real_person_level_refused(level) -> bool:
    return is_mature(level) and int(level) != NsfwLevel.BLOCKED


class AIModel(HasDescription, models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ai_models")
    name = models.CharField(max_length=MAX_MODEL_NAME_LENGTH)
    slug = models.SlugField(max_length=200)
    type = models.CharField(max_length=32, choices=ModelType.choices)
    description = models.TextField(
        blank=True,
        validators=[validate_description_length],
        help_text="Markdown; rendered through a sanitiser.",
    )
    # set_description keeps it in step with `description`; pages and APIs show it as it is.
    description_html = models.TextField(blank=True, default="", editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="ai_models")
    # One of levels.NsfwLevel (a bit); lists keep it when it is in the viewer's browsing mask.
    nsfw_level = models.PositiveSmallIntegerField(
        choices=NsfwLevel.choices, default=NsfwLevel.PG, db_default=NsfwLevel.PG, db_index=True
    )
    status = models.CharField(max_length=16, choices=PublishStatus.choices, default=PublishStatus.DRAFT)

    # Permissions the creator grants, as CivitAI shows them.
    license = models.CharField(
        max_length=MAX_LICENSE_LENGTH, blank=True, help_text="e.g. CreativeML OpenRAIL-M"
    )
    allow_no_credit = models.BooleanField(default=True, help_text="Use without crediting the creator.")
    allow_derivatives = models.BooleanField(default=True, help_text="Share merges and derivatives.")
    allow_different_license = models.BooleanField(
        default=True, help_text="Share derivatives under a different license."
    )
    allow_commercial_images = models.BooleanField(default=True, help_text="Sell images made with it.")
    allow_commercial_rent = models.BooleanField(default=True, help_text="Run it on paid generation services.")
    allow_commercial_sell = models.BooleanField(default=False, help_text="Sell the model or merges of it.")
    require_login = models.BooleanField(
        default=False, help_text="Only logged-in people may download its files."
    )
    # Set by moderators (docs/moderation.md): depicts a real person; involves minors (hidden at once).
    poi = models.BooleanField(default=False, db_default=False, help_text="Depicts a real person.")
    minor = models.BooleanField(default=False, db_default=False, help_text="Flagged as involving minors.")
    # Why moderators hid or removed it, shown to its creator (empty otherwise).
    moderation_reason = models.TextField(blank=True, default="", db_default="")

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Counters kept on the row (incremented with F() expressions), so lists can sort by them.
    download_count = models.PositiveBigIntegerField(default=0)
    thumbs_up_count = models.PositiveIntegerField(default=0)
    thumbs_down_count = models.PositiveIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0, help_text="People who saved it to their favourites.")
    comment_count = models.PositiveIntegerField(default=0)
    # thumbs up / (up + down), kept in step with the counts so "Highest Rated" can use an index.
    rating = models.FloatField(default=0)
    # Copies for lists, so a page of cards is one single-table query. The truth is the tags relation
    # and the published versions; cards.refresh_card_fields keeps these in step.
    # The id of the first example image of the newest published version (a resources Image: an id,
    # not a foreign key, since models_app never imports resources); kept by cards.refresh_card_fields.
    preview_image_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    tag_names = models.JSONField(default=list, blank=True, editable=False)
    base_model_names = models.JSONField(default=list, blank=True, editable=False)
    trigger_words = models.JSONField(default=list, blank=True, editable=False)  # of published versions

    class Meta:
        verbose_name = "AI model"
        constraints = [models.UniqueConstraint(fields=["owner", "slug"], name="unique_model_slug_per_owner")]
        indexes = [
            models.Index(fields=["status", "-published_at"]),
            models.Index(fields=["status", "-download_count"]),
            # With the id: the keyset order is (sort field, id), and most models tie on their rating
            # (1.0 or 0), so without it PostgreSQL sorts every published model (docs/performance.md).
            models.Index(fields=["status", "-rating", "-id"], name="aimodel_status_rating_id"),
            models.Index(fields=["status", "-like_count", "-id"], name="aimodel_status_liked_id"),
            models.Index(fields=["status", "-comment_count", "-id"], name="aimodel_status_discussed_id"),
        ]
        permissions = [("moderate_content", "Can see and moderate any creator's content")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("models_app:model_detail_slug", kwargs={"pk": self.pk, "slug": self.slug})

    def clean(self):
        super().clean()
        if self.poi and real_person_level_refused(self.nsfw_level):
            raise ValidationError({"nsfw_level": REAL_PERSON_LEVEL_RULE})

    @property
    def is_published(self):
        return self.status == PublishStatus.PUBLISHED

    @property
    def nsfw(self) -> bool:
        """CivitAI's boolean: above PG-13."""
        return is_mature(self.nsfw_level)

    @property
    def commercial_use(self) -> list[str]:
        """CivitAI's allowCommercialUse list."""
        uses = []
        if self.allow_commercial_images:
            uses.append("Image")
        if self.allow_commercial_rent:
            uses.append("Rent")
        if self.allow_commercial_sell:
            uses.append("Sell")
        return uses


class FormerSlug(models.Model):
    """A slug a model had before it was renamed, so old links keep working: the page URL carries the id
    and redirects by itself; the Hugging Face repo id (owner/slug) is looked up here (docs/editing.md)."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="former_slugs")
    slug = models.SlugField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "slug"], name="unique_former_slug")]
        indexes = [models.Index(fields=["slug"])]

    def __str__(self):
        return self.slug


class SearchDocument(models.Model):
    """What search reads of a model, in a narrow table of its own: the text vector, the name (its
    similarity to the query counts in the ranking), whether it is published and its content level.
    PostgreSQL triggers (migration 0012) keep it in step with AIModel on every insert and update, so
    no code path can forget it; SQLite's simpler search does not use it and leaves it empty.

    Why a copy: the model rows are wide (descriptions, JSON), so ranking a few hundred matches read
    as many pages from the big table; here they sit in a few (bench/load.py measures the search).

    On PostgreSQL the table also has `name_trigrams`, a column PostgreSQL computes from the name
    (migration 0040): the ranking compares it with the query's trigrams instead of running pg_trgm's
    similarity() on every candidate. Django does not know it; nothing here writes it.
    """

    model = models.OneToOneField(AIModel, on_delete=models.CASCADE, primary_key=True, related_name="+")
    vector = SearchVectorField(null=True)
    name = models.CharField(max_length=200)
    published = models.BooleanField()
    nsfw_level = models.PositiveSmallIntegerField(default=1, db_default=1)
    download_count = models.PositiveBigIntegerField(default=0)
    # floor(log2(download_count + 1)): 0 for none, 1 for 1-2, 2 for 3-6... Kept by the trigger
    # (migration 0034): search reads the most popular documents first, from an index on it
    # that a download rewrites only when the count doubles.
    popularity = models.PositiveSmallIntegerField(default=0, db_default=0)

    def __str__(self):
        return self.name


class SearchWord(models.Model):
    """A word of a published model's name (PostgreSQL only): a search that finds less than a page
    corrects each of its words to the closest of these (migration 0035,
    docs/performance.md#search-and-the-browse-list). A trigger on SearchDocument adds a new or
    renamed name's words at once; the words no published name has any more (a rename's old ones, an
    unpublished model's) go nightly (tasks.prune_search_words, migration 0036)."""

    word = models.CharField(max_length=40, primary_key=True)

    def __str__(self):
        return self.word


class ModelVersion(HasDescription, models.Model):
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=MAX_VERSION_NAME_LENGTH)
    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="versions")
    # Each word at most MAX_TRIGGER_WORD_LENGTH characters (services.clean_trigger_words).
    trained_words = models.JSONField(default=list, blank=True, help_text="Trigger words, a list of strings.")
    description = models.TextField(
        blank=True, validators=[validate_description_length], help_text="Changelog and notes; Markdown."
    )
    description_html = models.TextField(blank=True, default="", editable=False)  # see AIModel
    status = models.CharField(max_length=16, choices=PublishStatus.choices, default=PublishStatus.DRAFT)
    # May be above the model's own level: such a version is hidden from viewers whose mask lacks it.
    nsfw_level = models.PositiveSmallIntegerField(
        choices=NsfwLevel.choices, default=NsfwLevel.PG, db_default=NsfwLevel.PG
    )
    moderation_reason = models.TextField(blank=True, default="", db_default="")  # see AIModel
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The creator asked to publish while files were still being processed; the worker publishes the
    # version when the last one is decided (models_app/publishing.py).
    publish_when_ready = models.BooleanField(default=False)
    download_count = models.PositiveBigIntegerField(default=0)
    # Visible reviews of this version, kept by community/reviews.py with the model's totals (docs/reviews.md).
    # A database default too, so rows written by code older than the column (a rolling deploy) get 0.
    thumbs_up_count = models.PositiveIntegerField(default=0, db_default=0)
    thumbs_down_count = models.PositiveIntegerField(default=0, db_default=0)
    early_access_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Days after publishing during which only the creator, moderators and people granted early access may download.",
    )
    early_access_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Until then only people with a grant (and the creator) may download."
    )
    usage_control = models.CharField(
        max_length=24, choices=UsageControl.choices, default=UsageControl.DOWNLOAD
    )
    # Paid early access (docs/billing.md#paid-early-access): during the window, members of a tier with the
    # early-access perk pass the gate, and/or anyone may buy a grant for a one-time price (0 = not for sale).
    early_access_members = models.BooleanField(default=False, db_default=False)
    # With members: the tiers (plan names) chosen by the creator; empty = every tier with the perk.
    early_access_tiers = models.JSONField(default=list, blank=True, db_default=Value([], models.JSONField()))
    early_access_price = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="One-time early-access price in minor units (500 = 5.00); 0 = none.",
    )
    early_access_currency = models.CharField(max_length=3, default="usd", db_default="usd")
    # The VAE version the creator recommends with this one (services.clean_recommended_vae checks it
    # is a published VAE); shown only while it stays published (recommended_vae_shown).
    recommended_vae = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="recommended_with"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="unique_version_name_per_model")
        ]

    def __str__(self):
        return f"{self.model.name} {self.name}"

    def clean(self):
        super().clean()
        if self.model_id and self.model.poi and real_person_level_refused(self.nsfw_level):
            raise ValidationError({"nsfw_level": REAL_PERSON_LEVEL_RULE})

    @property
    def primary_file(self):
        # Only a ready file is primary (publishing.ensure_primary); rows flagged before that rule don't count.
        return next((f for f in self.files.all() if f.is_primary and f.is_downloadable), None)

    @property
    def recommended_vae_shown(self):
        """The recommended VAE version while it is still a published VAE, else None (it was unpublished,
        deleted or retyped after it was chosen: the recommendation simply stops showing)."""
        vae = self.recommended_vae
        if vae is None or vae.status != PublishStatus.PUBLISHED:
            return None
        if vae.model.status != PublishStatus.PUBLISHED or vae.model.type != ModelType.VAE:
            return None
        return vae

    def in_early_access(self, now=None) -> bool:
        return self.early_access_ends_at is not None and self.early_access_ends_at > (now or timezone.now())


class EarlyAccessGrant(models.Model):
    """Someone allowed to download a version before its early access ends (a supporter, a tester).
    Billing adds grants when people pay; creators and moderators never need one."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="early_access_grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="early_access_grants"
    )
    reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="one_grant_per_user_and_version")
        ]

    def __str__(self):
        return f"{self.user} may download {self.version} early"


class ContentBlob(models.Model):
    """One stored object, identified by its bytes. Identical uploads share a blob.

    Hex digests are UPPERCASE, the way CivitAI stores and sends them (docs/hashes.md).
    """

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    storage_key = models.CharField(max_length=255, unique=True)
    autov1 = models.CharField(max_length=8)
    autov3 = models.CharField(
        max_length=64, null=True, blank=True, help_text="SHA-256 of a safetensors file's tensor data."
    )
    crc32 = models.CharField(max_length=8)
    blake3 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # When its bytes were deleted from storage because every file using it was deleted
    # (tasks.release_blob); cleared when an identical upload stores the bytes again.
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # by-hash looks up every hash kind (downloads._hash_filter); without these, one lookup read
        # the whole table. varchar_pattern_ops (PostgreSQL only) also serves AutoV3's 12-hex prefix.
        indexes = [
            models.Index(fields=["blake3"], name="blob_blake3"),
            models.Index(fields=["autov3"], name="blob_autov3", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["autov1"], name="blob_autov1"),
            models.Index(fields=["crc32"], name="blob_crc32"),
        ]

    def __str__(self):
        return self.sha256

    @property
    def autov2(self):
        return self.sha256[:10]

    def api_hashes(self) -> dict[str, str]:
        """The hashes as tools receive them (docs/hashes.md#case-and-lookups): AutoV3 in its 12-hex API form, and only
        for safetensors files, where it is defined."""
        hashes = {
            "AutoV1": self.autov1,
            "AutoV2": self.autov2,
            "SHA256": self.sha256,
            "CRC32": self.crc32,
            "BLAKE3": self.blake3,
        }
        if self.autov3:
            hashes["AutoV3"] = self.autov3[:12]
        return hashes

    @staticmethod
    def key_for(sha256: str) -> str:
        sha = sha256.lower()
        return f"files/{sha[:2]}/{sha[2:4]}/{sha}"


class FileType(models.TextChoices):
    MODEL = "Model", gettext_lazy("Model")
    PRUNED_MODEL = "Pruned Model", gettext_lazy("Pruned model")
    VAE = "VAE", "VAE"
    CONFIG = "Config", gettext_lazy("Config")
    TRAINING_DATA = "Training Data", gettext_lazy("Training data")
    ARCHIVE = "Archive", gettext_lazy("Archive")
    WORKFLOW = "Workflow", gettext_lazy("Workflow")
    IMAGE = "Image", gettext_lazy("Example image")
    OTHER = "Other", gettext_lazy("Other")


class FileFormat(models.TextChoices):
    SAFETENSOR = "SafeTensor", "safetensors"
    PICKLETENSOR = "PickleTensor", gettext_lazy("pickle (ckpt/pt)")
    GGUF = "GGUF", "GGUF"
    DIFFUSERS = "Diffusers", "Diffusers"
    OTHER = "Other", gettext_lazy("Other")


class FileStatus(models.TextChoices):
    """Where a file is in the pipeline. Words a creator understands."""

    UPLOADING = "uploading", gettext_lazy("Uploading")
    PENDING = "pending", gettext_lazy("Waiting for processing")
    PROCESSING = "processing", gettext_lazy("Processing")
    READY = "ready", gettext_lazy("Ready")
    REJECTED = "rejected", gettext_lazy("Rejected")
    QUARANTINED = "quarantined", gettext_lazy("Quarantined")
    ERROR = "error", gettext_lazy("Error")
    # Removed by its creator or a moderator (docs/editing.md): never listed or served again; its blob is
    # released once no other file uses it (tasks.release_blob).
    DELETED = "deleted", gettext_lazy("Deleted")


class ScanStatus(models.TextChoices):
    """The verdict of the file's safety checks (strict safetensors parsing, pickle scan, ClamAV)."""

    PENDING = "pending", gettext_lazy("Not scanned yet")
    SCANNING = "scanning", gettext_lazy("Scanning")
    CLEAN = "clean", gettext_lazy("Clean")
    QUARANTINED = "quarantined", gettext_lazy("Quarantined")
    ERROR = "error", gettext_lazy("Could not be scanned")
    NOT_SCANNED = "not_scanned", gettext_lazy("Not scanned (the file was refused)")


# Once a file's status is final, its scan status says the same thing: the pair never lies (a rejected
# file is not "scanning" forever, a ready one is clean). processing.py sets both together.
FINAL_SCAN_STATUSES = {
    FileStatus.READY: {ScanStatus.CLEAN},
    FileStatus.QUARANTINED: {ScanStatus.QUARANTINED, ScanStatus.ERROR},
    FileStatus.REJECTED: {ScanStatus.NOT_SCANNED},
    FileStatus.ERROR: {ScanStatus.NOT_SCANNED},
}


class ModelFile(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="files")
    # The name the uploader gave; a column, never a path (storage keys come from the content hash).
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=32, choices=FileType.choices, default=FileType.MODEL)
    format = models.CharField(max_length=32, choices=FileFormat.choices, default=FileFormat.OTHER)
    fp = models.CharField(max_length=16, blank=True, help_text="fp16, bf16, fp32 ... ; blank when unknown")
    size_variant = models.CharField(max_length=8, blank=True, help_text="full or pruned; blank when unknown")
    is_primary = models.BooleanField(default=False)

    # Until processing finishes the bytes sit at upload_key; afterwards they live in the blob.
    upload_key = models.CharField(max_length=255, blank=True)
    # The multipart upload in progress (S3's UploadId, or the hub's own id on local storage).
    multipart_upload_id = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes; the declared size until processed.")
    # The part size the uploader was told when the upload started (UPLOAD_PART_SIZE then). Every part
    # is checked against it, so changing the setting does not break uploads already under way.
    part_size = models.PositiveBigIntegerField(
        default=0, help_text="Bytes per part of the multipart upload; 0 before the hub kept it."
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the file processed.")
    blob = models.ForeignKey(
        ContentBlob, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    status = models.CharField(max_length=16, choices=FileStatus.choices, default=FileStatus.PENDING)
    status_message = models.TextField(blank=True)
    scan_status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING)
    scan_message = models.TextField(blank=True, help_text="Markdown; names what the scanners found.")
    scanned_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="Facts extracted from the file.")

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            # The images list (CivitAI's /api/v1/images) walks images newest first among all files.
            models.Index(fields=["type", "-id"], name="modelfile_type_newest"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_downloadable(self) -> bool:
        """Stored, hashed and passed every scan: downloads.DOWNLOADABLE, for a row already loaded."""
        return (
            self.status == FileStatus.READY
            and self.scan_status == ScanStatus.CLEAN
            and self.blob_id is not None
        )

    @property
    def is_ready(self):
        return self.status == FileStatus.READY

    @property
    def detection_summary(self) -> str:
        """What the file's header says it is, for people: "LoRA for SDXL 1.0 (95% confidence)"; empty
        when nothing was detected (models_app/files/detection.py keeps one confidence for both)."""
        detected = self.metadata.get("detected") or {}
        kind = detected.get("model_type")
        kind = ModelType(kind).label if kind in ModelType.values else ""
        base = detected.get("base_model") or ""
        if not (kind or base):
            return ""
        if kind and base:
            what = gettext("%(type)s for %(base_model)s") % {"type": kind, "base_model": base}
        else:
            what = str(kind or base)
        try:
            confidence = round(100 * float(detected.get("confidence") or 0))
        except (TypeError, ValueError):
            return what
        return gettext("%(what)s (%(confidence)d%% confidence)") % {"what": what, "confidence": confidence}

    @property
    def extension(self) -> str:
        return "." + self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""

    @property
    def upload_part_size(self) -> int:
        # Uploads begun before the hub kept the part size were told the setting.
        return self.part_size or settings.UPLOAD_PART_SIZE

    @property
    def part_count(self) -> int:
        """How many parts the declared size needs: parts 1 to this, and no others."""
        return max(1, -(-self.size // self.upload_part_size))

    def expected_part_size(self, part_number: int) -> int | None:
        """The exact length of part `part_number` of this upload, or None when it has no such part.

        Every part is the part size but the last, which holds the rest of the declared size. The part
        endpoint, the presigned S3 URLs and complete_upload all check parts against this (issue 11).
        """
        count = self.part_count
        if not 1 <= part_number <= count:
            return None
        if part_number < count:
            return self.upload_part_size
        return self.size - (count - 1) * self.upload_part_size

    @property
    def is_finished(self) -> bool:
        """Nothing more will happen to this file without a new upload."""
        return self.status in (
            FileStatus.READY,
            FileStatus.REJECTED,
            FileStatus.QUARANTINED,
            FileStatus.ERROR,
            FileStatus.DELETED,
        )


class DownloadRecord(models.Model):
    """One counted download: a visitor (user, else a hash of the address) and a version, per day.

    The unique constraint is what limits repeat counting: a second download the same day inserts
    nothing, so the counters are only incremented for new rows.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="download_records")
    visitor = models.CharField(max_length=64)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "visitor", "day"], name="one_download_a_day")
        ]

    def __str__(self):
        return f"{self.version_id} by {self.visitor} on {self.day}"


# Crowdfunding goals (docs/billing.md#crowdfunding-goals). The bounds are checked by models_app/funding.py
# and its form, and named in their messages.
MAX_GOAL_TITLE_LENGTH = 120
MAX_GOAL_DESCRIPTION_LENGTH = 2000
MAX_GOAL_TARGET = 100_000_000  # minor units: 1,000,000.00 in a two-decimal currency


class FundingGoal(models.Model):
    """A creator's crowdfunding goal on a model. Its progress is never stored: it is the ledger's sum
    for the reference "goal:<id>" (billing.selectors.totals_by_reference), so refunds and disputes
    lower it. "Ended without reaching it" is derived: open and past the deadline. The status becomes
    `ended` only when the creator opens the next goal (one open goal per model is a constraint)."""

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        REACHED = "reached", gettext_lazy("Reached")
        CANCELED = "canceled", gettext_lazy("Canceled")
        ENDED = "ended", gettext_lazy("Ended")

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="funding_goals")
    title = models.CharField(max_length=MAX_GOAL_TITLE_LENGTH)
    description = models.TextField(blank=True, max_length=MAX_GOAL_DESCRIPTION_LENGTH)  # plain text
    target = models.PositiveBigIntegerField(help_text="Minor units (100000 = 1,000.00).")
    currency = models.CharField(max_length=3, default="usd", db_default="usd")
    deadline = models.DateTimeField()
    # A version of the same model in early access, opened to everyone when the goal is reached.
    unlocks_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="funding_goals"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_default="open")
    reached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The service checks this under a lock; the constraint is the last word for a race.
            models.UniqueConstraint(
                fields=["model"], condition=models.Q(status="open"), name="one_open_goal_per_model"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def reference(self) -> str:
        """What the goal's ledger rows carry (the Checkout metadata's `reference`)."""
        return f"goal:{self.id}"

    def has_ended(self, now=None) -> bool:
        """Ended without being reached: past its deadline while open, or closed as ended."""
        if self.status == self.Status.ENDED:
            return True
        return self.status == self.Status.OPEN and self.deadline <= (now or timezone.now())

    def accepts_contributions(self, now=None) -> bool:
        return self.status == self.Status.OPEN and not self.has_ended(now)


class ViewerPreference(models.Model):
    """What a signed-in person chose to see (models_app/preferences.py reads it): the levels they browse
    and whether content above them is hidden or blurred. A row of its own, so it follows the account
    across devices; no row means PG only, hidden (docs/moderation.md#nsfw-levels)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="viewer_preference"
    )
    browsing_levels = models.PositiveSmallIntegerField(default=DEFAULT_MASK, db_default=DEFAULT_MASK)
    blur_mature = models.BooleanField(default=False, db_default=False)

    def __str__(self):
        return f"{self.user_id}: {self.browsing_levels}"
