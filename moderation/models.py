"""Moderation's own rows (docs/moderation.md). Content is never deleted here: moderation hides it
through the content apps' services and statuses."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import normalise_term


class BlockedTerm(models.Model):
    """A word or phrase no published text may contain (docs/moderation.md#blocked-terms). Stored
    normalised (case-folded, accents removed); matched with leetspeak variants on word boundaries."""

    term = models.CharField(max_length=100, unique=True)
    note = models.CharField(max_length=255, blank=True, help_text=_("Why it is blocked (for moderators)."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def save(self, *args, **kwargs):
        self.term = normalise_term(self.term)
        super().save(*args, **kwargs)

    def clean(self):
        if not 2 <= len(normalise_term(self.term)) <= 100:
            raise ValidationError({"term": _("A blocked term is 2 to 100 characters long.")})


class BlockedImage(models.Model):
    """An image no one may post again: its perceptual hash (docs/moderation.md#blocked-images). A new
    image within a few bits of it (resized, re-encoded, slightly recoloured) goes to the queue."""

    phash = models.CharField(max_length=16, unique=True, help_text=_("imagehash's pHash, 16 hex digits."))
    note = models.CharField(max_length=255, blank=True, help_text=_("Why it is blocked (for moderators)."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.phash
