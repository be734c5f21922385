"""How moderation compares text (docs/moderation.md#blocked-terms): the folded form both the text and
the blocked terms are matched in."""

import unicodedata


def fold(text: str) -> str:
    """Case-folded, accents and format characters removed, compatibility forms unified (fullwidth
    letters become ASCII): the form both the text and the terms are compared in."""
    text = unicodedata.normalize("NFKD", text)
    # Combining accents go, and so do format characters (zero-width space, joiners, soft hyphen), which
    # would otherwise split a word invisibly.
    kept = (c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    return "".join(kept).casefold()


def normalise_term(term: str) -> str:
    """How a term is stored: folded, inner whitespace as one space, trimmed."""
    return " ".join(fold(term).split())
