"""How moderation compares text (docs/moderation.md#blocked-terms): the folded form both the text and
the blocked terms are matched in."""

import unicodedata

from community.usernames import prototypes


def fold(text: str) -> str:
    """Case-folded, accents and format characters removed, compatibility forms unified (fullwidth
    letters become ASCII), look-alikes from other scripts as Latin: the form both the text and the
    terms are compared in."""
    text = unicodedata.normalize("NFKD", text)
    # Combining accents go, and so do format characters (zero-width space, joiners, soft hyphen), which
    # would otherwise split a word invisibly.
    kept = "".join(c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    # Look-alike letters from other scripts (Cyrillic "а", Greek "ο") become their Latin prototype
    # (Unicode's confusables, as usernames use them). ASCII is left alone: digits and symbols are
    # leetspeak, which the matcher handles letter by letter.
    table = prototypes()
    return "".join(c if c.isascii() else table.get(c, c) for c in kept).casefold()


def normalise_term(term: str) -> str:
    """How a term is stored: folded, inner whitespace as one space, trimmed."""
    return " ".join(fold(term).split())
