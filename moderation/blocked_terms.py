"""Blocked terms (docs/moderation.md#blocked-terms): an admin-managed list of words no published text
may contain, matched after case folding, accent and leetspeak normalisation and on word boundaries, so
"B4DW0RD" and "bädword" match "badword" but "Scunthorpe" does not match a term inside it.

The check is registered with models_app.content_rules at start-up (apps.py): every write path of every
content app runs it, and a refusal names the rule, the field and the term."""

import functools
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from models_app.content_rules import ContentRefused

from .models import BlockedTerm
from .text import fold, normalise_term

CODE = "blocked_term"

# What a letter may be written as in leetspeak; each term letter matches itself or these.
LEET = {
    "a": "4@",
    "b": "8",
    "e": "3",
    "g": "96",
    "i": "1!|",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7+",
    "z": "2",
}
# Letters and digits on either side of a match mean it is inside a longer word.
_WORD = r"[^\W_]"


def _pattern(term: str) -> str:
    words = []
    for word in term.split(" "):
        chars = []
        for c in word:
            variants = c + LEET.get(c, "")
            chars.append(re.escape(c) if len(variants) == 1 else "[" + re.escape(variants) + "]")
        words.append("".join(chars))
    return r"[\W_]+".join(words)


@functools.lru_cache(maxsize=8)
def _matcher(terms: tuple[str, ...]) -> tuple[re.Pattern, list[str]] | None:
    if not terms:
        return None
    # Longest first, so a longer term wins over a shorter one it contains; one named group a term.
    ordered = sorted(terms, key=len, reverse=True)
    body = "|".join(f"(?P<t{i}>{_pattern(term)})" for i, term in enumerate(ordered))
    return re.compile(rf"(?<!{_WORD})(?:{body})(?!{_WORD})"), ordered


def find_blocked(text: str, terms: tuple[str, ...]) -> str | None:
    """The first blocked term (as listed) found in `text` on word boundaries, or None."""
    compiled = _matcher(tuple(sorted(terms)))
    if compiled is None:
        return None
    pattern, ordered = compiled
    match = pattern.search(fold(text))
    if match is None:
        return None
    return ordered[int(match.lastgroup[1:])]


def active_terms() -> tuple[str, ...]:
    return tuple(BlockedTerm.objects.values_list("term", flat=True))


FIELD_NAMES = {
    "name": gettext_lazy("name"),
    "title": gettext_lazy("title"),
    "description": gettext_lazy("description"),
    "tags": gettext_lazy("tags"),
    "trained_words": gettext_lazy("trigger words"),
    "prompt": gettext_lazy("prompt"),
    "body": gettext_lazy("comment"),
    "text": gettext_lazy("review"),
    "bio": gettext_lazy("bio"),
}


def check(items: list[tuple[str, str]], *, terms: tuple[str, ...] | None = None) -> None:
    """The content rule: refuse the first (field, text) pair whose text holds a blocked term. The list
    is read once a call (`terms`, when the caller already has it)."""
    terms = active_terms() if terms is None else terms
    if not terms:
        return
    for field, text in items:
        _refuse_if_blocked(field, text, terms)


def _refuse_if_blocked(field: str, text: str, terms: tuple[str, ...]) -> None:
    term = find_blocked(text, terms)
    if term is not None:
        raise ContentRefused(
            _(
                "The %(field)s contains “%(term)s”, which this hub does not allow (rule: blocked terms). "
                "Remove it and try again."
            )
            % {"field": FIELD_NAMES.get(field, field), "term": term},
            code=CODE,
            field=field,
            term=term,
        )


def block(term: str, *, by=None, note: str = ""):
    """Add `term` to the list (stored normalised). Refuses an empty or one-character term; blocking a
    term already listed returns the existing row."""
    normalised = normalise_term(term)
    if len(normalised) < 2 or len(normalised) > 100:
        raise ValidationError(_("A blocked term is 2 to 100 characters long."))
    row, _created = BlockedTerm.objects.get_or_create(
        term=normalised, defaults={"created_by": by, "note": note[:255]}
    )
    return row


def unblock(term: str) -> bool:
    """Remove `term` from the list; False when it was not listed."""
    deleted, _rows = BlockedTerm.objects.filter(term=normalise_term(term)).delete()
    return bool(deleted)
