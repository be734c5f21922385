"""Blocked images (docs/moderation.md#blocked-images): perceptual hashes of images no one may post
again. The worker stores every image's pHash (resources.Image.phash); an image within
BLOCKED_IMAGE_DISTANCE bits of a blocked hash is a match."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import BlockedImage

_HEX16 = re.compile(r"[0-9a-f]{16}")


def distance(a: str, b: str) -> int:
    """How many of the 64 bits two pHashes differ in."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def block(phash: str, *, by=None, note: str = "") -> BlockedImage:
    """Add a pHash to the list (from an image: `image.phash`). Refuses anything but 16 hex digits."""
    phash = (phash or "").strip().lower()
    if not _HEX16.fullmatch(phash):
        raise ValidationError(_("A perceptual hash is 16 hexadecimal digits."))
    row, _created = BlockedImage.objects.get_or_create(
        phash=phash, defaults={"created_by": by, "note": note[:255]}
    )
    return row


def blocked_list() -> list[BlockedImage]:
    return list(BlockedImage.objects.only("id", "phash", "note"))


def match(phash: str, blocked: list[BlockedImage] | None = None) -> BlockedImage | None:
    """The blocked image `phash` is near (within BLOCKED_IMAGE_DISTANCE bits), the nearest one; None
    for no match or no hash. `blocked`: the list, when the caller already read it (blocked_list()).
    Compares against every blocked hash: the list is short (moderators add to it by hand); a long
    list would want a BK-tree or hash bands."""
    if not phash or not _HEX16.fullmatch(phash):
        return None
    best, best_distance = None, settings.BLOCKED_IMAGE_DISTANCE + 1
    for row in blocked_list() if blocked is None else blocked:
        d = distance(phash, row.phash)
        if d < best_distance:
            best, best_distance = row, d
    return best
