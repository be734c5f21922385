"""Creators and the people around them: API keys (for tools), and later comments, ratings, follows."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

API_KEY_PREFIX = "hub_"


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A key a user gives to tools (download scripts, WebUI extensions). Only its hash is stored; the
    key itself is shown once, when it is created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the key.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def create(cls, *, user, name: str) -> tuple["ApiKey", str]:
        """A new key for `user`; returns the row and the raw key, which is never stored."""
        raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(user=user, name=name[:100], key_hash=hash_api_key(raw), prefix=raw[:12])
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
    VISIBLE = "visible", gettext_lazy("Visible")
    HIDDEN = "hidden", gettext_lazy("Hidden")  # set by moderation; a hidden review is kept but counts nowhere


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
