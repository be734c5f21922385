"""Content levels as CivitAI's bit flags (docs/moderation.md#nsfw-levels, DESIGN §8).

Each model, version and image carries one level (a single bit); a viewer's browsing mask is the sum
of the levels they see. Lists keep a row when its level is one of the mask's bits.
"""

from django.db import models
from django.utils.translation import pgettext_lazy


class NsfwLevel(models.IntegerChoices):
    PG = 1, pgettext_lazy("content level", "PG")
    PG13 = 2, pgettext_lazy("content level", "PG-13")
    R = 4, pgettext_lazy("content level", "R")
    X = 8, pgettext_lazy("content level", "X")
    XXX = 16, pgettext_lazy("content level", "XXX")
    BLOCKED = 32, pgettext_lazy("content level", "Blocked")


SFW = NsfwLevel.PG | NsfwLevel.PG13  # 3
ALL = 31  # every level a viewer may choose; Blocked (32) is for owners and moderators only
EVERYTHING = ALL | NsfwLevel.BLOCKED  # 63
DEFAULT_MASK = int(NsfwLevel.PG)  # anonymous visitors and accounts that chose nothing
# What a creator may set; Blocked is a moderator's decision.
CREATOR_LEVELS = (1, 2, 4, 8, 16)

# CivitAI's image `nsfwLevel` strings.
IMAGE_LEVEL_NAMES = {1: "None", 2: "Soft", 4: "Mature", 8: "X", 16: "X", 32: "Blocked"}
# /images `nsfw=`: a legacy string or a boolean, as a browsing mask (lower-cased keys); true is mature only.
IMAGE_NSFW_PARAM = {"none": 1, "soft": 3, "mature": 7, "x": 31, "true": 60, "false": 1}


def is_mature(level: int) -> bool:
    """What CivitAI's `nsfw` boolean says: above PG-13."""
    return int(level) > NsfwLevel.PG13


def bits(mask: int) -> list[int]:
    """The single levels a mask holds, e.g. 7 -> [1, 2, 4]."""
    return [int(level) for level in NsfwLevel.values if int(mask) & level]


def in_filter(mask: int) -> list[int]:
    """bits(mask) for a `nsfw_level__in=` filter: [0], which no row has, when the mask holds no level
    (an empty IN would make some compiled queries raise EmptyResultSet instead of finding nothing)."""
    return bits(mask) or [0]


def label(level: int) -> str:
    try:
        return str(NsfwLevel(int(level)).label)
    except ValueError:
        return str(level)


def models_nsfw_mask(value: bool | None) -> int:
    """/models `nsfw=`: absent or false -> PG only; true -> every level."""
    return ALL if value else DEFAULT_MASK


def parse_mask(text) -> int | None:
    """A `browsingLevel` parameter: a whole number from 1 to 63, else None (the caller answers 400)."""
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= EVERYTHING else None
