"""Creators and the people around them: API keys (for tools), and later comments, ratings, follows."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

API_KEY_PREFIX = "hub_"


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A key a user gives to tools (download scripts, WebUI extensions). Only its hash is stored; the
    key itself is shown once, when it is created. A `read` key may only read (GET, HEAD, OPTIONS);
    a `write` key may also change things (docs/security.md#api-key-scopes)."""

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the key.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Keys made before scopes existed keep full access ("write"), so the tools using them don't break.
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.WRITE, db_default=Scope.WRITE)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    @classmethod
    def create(cls, *, user, name: str, scope: str = Scope.WRITE) -> tuple["ApiKey", str]:
        """A new key for `user`; returns the row and the raw key, which is never stored."""
        raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            user=user, name=name[:100], key_hash=hash_api_key(raw), prefix=raw[:12], scope=scope
        )
        return key, raw


class UsernameSkeleton(models.Model):
    """The look-alike key of a username (community/usernames.py), kept for every user by a signal, so
    a new name is checked against all the others in one indexed query."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="username_skeleton"
    )
    skeleton = models.CharField(max_length=600, db_index=True)

    def __str__(self):
        return self.skeleton


class Follow(models.Model):
    """A user following a creator or a model: what /feed/ shows them (docs/follows.md). Exactly one
    target is set (a check constraint), at most once per follower (partial unique constraints)."""

    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="followers"
    )
    model = models.ForeignKey(
        "models_app.AIModel", null=True, blank=True, on_delete=models.CASCADE, related_name="followers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(creator__isnull=False, model__isnull=True))
                | models.Q(creator__isnull=True, model__isnull=False),
                name="follow_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["follower", "creator"],
                condition=models.Q(creator__isnull=False),
                name="follow_creator_once",
            ),
            models.UniqueConstraint(
                fields=["follower", "model"],
                condition=models.Q(model__isnull=False),
                name="follow_model_once",
            ),
        ]

    def __str__(self):
        return f"{self.follower_id} → {'user ' + str(self.creator_id) if self.creator_id else 'model ' + str(self.model_id)}"


class ReviewStatus(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")  # set by moderation; a hidden review is kept but counts nowhere


MAX_REVIEW_LENGTH = 5000


class Review(models.Model):
    """One person's verdict on one version: recommend or not, with optional Markdown text. Its vote is
    counted in the model's thumbs_up_count / thumbs_down_count by community/reviews.py (docs/reviews.md)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    version = models.ForeignKey("models_app.ModelVersion", on_delete=models.CASCADE, related_name="reviews")
    recommended = models.BooleanField()
    text = models.TextField(blank=True, default="", max_length=MAX_REVIEW_LENGTH)
    text_html = models.TextField(blank=True, default="")  # rendered once, when written
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.VISIBLE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="one_review_per_version")]
        indexes = [models.Index(fields=["version", "status", "-created_at"])]

    def __str__(self):
        return f"{self.user} on {self.version_id}: {'+' if self.recommended else '-'}"


class NotificationKind(models.TextChoices):
    REPLY = "reply", _("Replies to your comments")
    MENTION = "mention", _("Mentions of you")
    COMMENT = "comment", _("Comments on your models and images")
    REVIEW = "review", _("Reviews of your models")
    NEW_VERSION = "new_version", _("New versions of what you follow")
    FOLLOWER = "follower", _("New followers")
    MODERATION = "moderation", _("Moderation decisions")


class Notification(models.Model):
    """One event told to one person (docs/notifications.md). `key` names the event (`review:12`); the
    unique (recipient, key) pair makes a repeated event (a retry, a double click, two workers) an
    insert that is ignored, so each event reaches each recipient once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=200)
    target_name = models.CharField(max_length=200, blank=True, default="")
    excerpt = models.CharField(max_length=300, blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")  # a path on this hub
    # What it points at, so it disappears when the recipient may no longer see it.
    model = models.ForeignKey(
        "models_app.AIModel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(
        "models_app.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_type = models.CharField(max_length=30, blank=True, default="")  # "comment", "image", ...
    object_id = models.BigIntegerField(null=True, blank=True)
    hidden = models.BooleanField(
        default=False
    )  # withdrawn (its comment deleted or hidden): kept, listed nowhere
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A digest run that took this row for its email (docs/notifications.md#the-email-digest).
    email_claim = models.CharField(max_length=32, blank=True, default="")
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_recipient")
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True, read_at__isnull=True),
                name="notification_to_email",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id} ({self.key})"


class NotificationSettings(models.Model):
    """The kinds of notification a user wants emailed (the others only show under the bell). No row:
    the defaults in community/notifications.py."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_kinds = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"{self.user_id}: {', '.join(self.email_kinds)}"


# --- Collections and profiles (docs/collections.md, docs/profiles.md)

MAX_COLLECTION_NAME_LENGTH = 100
MAX_COLLECTION_DESCRIPTION_LENGTH = 1000


class CollectionVisibility(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class CollectionStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"  # set by moderation: kept, shown to its owner only


class Collection(models.Model):
    """A user's list of models, versions and images. Every user has one built-in "Favourites"
    collection (is_favorites), made on first use: its models are the model's like_count
    (community/collections.py keeps that count exact)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=MAX_COLLECTION_NAME_LENGTH)
    description = models.TextField(blank=True, default="", max_length=MAX_COLLECTION_DESCRIPTION_LENGTH)
    visibility = models.CharField(
        max_length=10, choices=CollectionVisibility.choices, default=CollectionVisibility.PUBLIC
    )
    is_favorites = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=CollectionStatus.choices, default=CollectionStatus.VISIBLE
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_favorites=True), name="one_favorites_per_user"
            )
        ]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self):
        return f"{self.name} ({self.owner_id})"

    @property
    def is_public(self) -> bool:
        """Shown to others: public and not hidden by moderation."""
        return self.visibility == CollectionVisibility.PUBLIC and self.status == CollectionStatus.VISIBLE


class CollectionItem(models.Model):
    """One model, version or image in a collection: exactly one target (a check constraint), each
    at most once per collection (partial unique constraints), as in Follow."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    model = models.ForeignKey(
        "models_app.AIModel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(
        "models_app.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    image = models.ForeignKey(
        "resources.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(model__isnull=False, version__isnull=True, image__isnull=True)
                | models.Q(model__isnull=True, version__isnull=False, image__isnull=True)
                | models.Q(model__isnull=True, version__isnull=True, image__isnull=False),
                name="collection_item_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["collection", "model"],
                condition=models.Q(model__isnull=False),
                name="collect_model_once",
            ),
            models.UniqueConstraint(
                fields=["collection", "version"],
                condition=models.Q(version__isnull=False),
                name="collect_version_once",
            ),
            models.UniqueConstraint(
                fields=["collection", "image"],
                condition=models.Q(image__isnull=False),
                name="collect_image_once",
            ),
        ]
        indexes = [models.Index(fields=["collection", "-created_at"])]

    def __str__(self):
        return f"{self.collection_id}: {self.item_type} {self.target_id}"

    @property
    def item_type(self) -> str:
        return "model" if self.model_id else "version" if self.version_id else "image"

    @property
    def target_id(self) -> int:
        return self.model_id or self.version_id or self.image_id


MAX_BIO_LENGTH = 2000
MAX_PROFILE_LINKS = 5
MAX_LINK_LENGTH = 300


class Profile(models.Model):
    """What a user says about themselves on /user/<name> (docs/profiles.md); made on first edit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True, default="", max_length=MAX_BIO_LENGTH)
    bio_html = models.TextField(blank=True, default="")  # rendered once, when written
    links = models.JSONField(default=list, blank=True)  # up to 5 http(s) URLs, checked by the service
    # An image posted through resources' pipeline (checked, metadata stripped, thumbnailed); shown only
    # once it is ready.
    avatar = models.ForeignKey(
        "resources.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The language last chosen with the header's switcher ("" = none yet): emails sent without a
    # request (the notification digest) go out in it (docs/i18n.md).
    language = models.CharField(max_length=10, blank=True, default="", db_default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Profile of {self.user_id}"


class LineageRelation(models.TextChoices):
    FINETUNE_OF = "finetune_of", _("a fine-tune of")
    MERGE_OF = "merge_of", _("a merge of")
    LORA_OF = "lora_of", _("a LoRA of")
    QUANTIZED_FROM = "quantized_from", _("quantized from")
    CONVERTED_FROM = "converted_from", _("converted from")


class LineageSource(models.TextChoices):
    CREATOR = "creator", _("declared by the creator")
    METADATA = "metadata", _("inferred from the file's metadata")


class VersionParent(models.Model):
    """One edge of the lineage graph: `child` was made from `parent` (docs/lineage.md). The creator
    declares it, or the worker proposes it from a file's metadata (unconfirmed until the creator
    confirms). community/lineage.py refuses cycles; a version is never its own ancestor."""

    child = models.ForeignKey(
        "models_app.ModelVersion", on_delete=models.CASCADE, related_name="parent_links"
    )
    parent = models.ForeignKey(
        "models_app.ModelVersion", on_delete=models.CASCADE, related_name="child_links"
    )
    relation = models.CharField(max_length=20, choices=LineageRelation.choices)
    weight = models.FloatField(null=True, blank=True, help_text="merge_of only: the parent's share, 0 to 1.")
    confirmed = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=LineageSource.choices, default=LineageSource.CREATOR)
    evidence_key = models.CharField(
        max_length=100, blank=True, help_text="The metadata key it was read from."
    )
    evidence_value = models.CharField(
        max_length=200, blank=True, help_text="The value (cut to 200 characters)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "parent"], name="one_link_per_parent"),
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="not_own_parent"),
            models.CheckConstraint(
                condition=models.Q(weight__isnull=True)
                | models.Q(relation="merge_of", weight__gte=0, weight__lte=1),
                name="weight_only_for_merges",
            ),
        ]

    def __str__(self):
        return f"{self.child_id} {self.relation} {self.parent_id}"


class LineageRejection(models.Model):
    """A parent the creator rejected or removed: the worker never proposes it again for this child."""

    child = models.ForeignKey("models_app.ModelVersion", on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey("models_app.ModelVersion", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "parent"], name="one_rejection_per_parent")]

    def __str__(self):
        return f"{self.child_id} rejected {self.parent_id}"


class CommentTarget(models.TextChoices):
    MODEL = "model", "Model"  # workflows and wildcard packs are models of those types
    VERSION = "version", "Version"
    IMAGE = "image", "Image"


class CommentStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"  # set by moderation: kept, listed and counted nowhere, with its replies


MAX_COMMENT_LENGTH = 5000
MAX_COMMENT_DEPTH = 5  # a top-level comment is depth 0; a reply to a depth-5 comment is refused


class Comment(models.Model):
    """A comment on a model, a version or an image, or a reply to one (docs/comments.md).

    `model` is also set on a version's comments, so the model page reads its own and its versions'
    comments with one indexed query, and the model's comment_count covers both. `root` is the
    top-level comment of the thread (null on a top-level one): a page of threads is loaded with two
    queries whatever their size. A deleted comment with replies stays as "[deleted]" (`is_deleted`,
    body emptied); one without replies is removed."""

    target_type = models.CharField(max_length=10, choices=CommentTarget.choices)
    model = models.ForeignKey(
        "models_app.AIModel", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    version = models.ForeignKey(
        "models_app.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    image = models.ForeignKey(
        "resources.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True, default="", max_length=MAX_COMMENT_LENGTH)
    body_html = models.TextField(blank=True, default="")  # rendered once, when written
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    status = models.CharField(max_length=10, choices=CommentStatus.choices, default=CommentStatus.VISIBLE)
    is_deleted = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)
    like_count = models.PositiveIntegerField(default=0)
    heart_count = models.PositiveIntegerField(default=0)
    laugh_count = models.PositiveIntegerField(default=0)
    cry_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        target_type="model", model__isnull=False, version__isnull=True, image__isnull=True
                    )
                    | models.Q(
                        target_type="version", model__isnull=False, version__isnull=False, image__isnull=True
                    )
                    | models.Q(
                        target_type="image", model__isnull=True, version__isnull=True, image__isnull=False
                    )
                ),
                name="comment_has_one_target",
            ),
            models.UniqueConstraint(
                fields=["model"],
                condition=models.Q(pinned=True, target_type="model"),
                name="one_pinned_comment_per_model",
            ),
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(pinned=True), name="one_pinned_comment_per_version"
            ),
            models.UniqueConstraint(
                fields=["image"], condition=models.Q(pinned=True), name="one_pinned_comment_per_image"
            ),
        ]
        indexes = [
            models.Index(fields=["model", "root", "-created_at"]),
            models.Index(fields=["version", "root", "-created_at"]),
            models.Index(fields=["image", "root", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.user} on {self.target_type}: {self.body[:40]}"

    @property
    def edited(self) -> bool:
        return (self.updated_at - self.created_at).total_seconds() > 1


class ReactionKind(models.TextChoices):
    LIKE = "like", "👍"
    HEART = "heart", "❤️"
    LAUGH = "laugh", "😂"
    CRY = "cry", "😢"


class Reaction(models.Model):
    """One user's reaction of one kind to a comment; counted in the comment's <kind>_count
    (docs/comments.md#reactions)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=10, choices=ReactionKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "comment", "kind"], name="one_reaction_per_kind")
        ]
        indexes = [models.Index(fields=["comment", "kind"])]

    def __str__(self):
        return f"{self.user} {self.kind} {self.comment_id}"
