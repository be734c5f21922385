"""Checks every piece of text a person publishes must pass (docs/moderation.md#blocked-terms).

The rules themselves (the blocked-term list) belong to moderation, which sits above every content app;
the content apps must not import it. So the rules are registered here, in the lowest content app, at
start-up (moderation's apps.py), and every write path asks `check_text(field=value, ...)` before it
stores anything: model and version names, descriptions and trigger words, tags, post titles, image
prompts, comments, reviews, collections and profiles.

A refusal is transparent: it names the rule, the field and the matched term, as a sentence for pages
and as a machine-readable reason for the APIs (`as_dict()`).
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

# Each check is check(items) with items a list of (field, text) pairs, the texts of one write; it raises
# ContentRefused for the first it refuses, or returns None. One call a write: a rule reads its list once.
_CHECKS: list[Callable[[list[tuple[str, str]]], None]] = []


class ContentRefused(ValidationError):
    """Text refused by a content rule. A ValidationError, so forms and services that already show a
    ValidationError's sentence show this one; the API's error handler adds the reason fields."""

    def __init__(self, message: str, *, code: str, field: str, term: str = ""):
        super().__init__(message, code=code)
        self.reason_code = code
        self.field = field
        self.term = term

    @property
    def message_text(self) -> str:
        return " ".join(self.messages)

    def as_dict(self) -> dict:
        """The API body: {"detail", "code", "field", "term"}."""
        return {"detail": self.message_text, "code": self.reason_code, "field": self.field, "term": self.term}


def register_check(check: Callable[[list[tuple[str, str]]], None]) -> None:
    """Add a rule (moderation registers the blocked terms). Registering the same function twice keeps one."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def check_text(**fields: str | Iterable[str] | None) -> None:
    """Run every rule over each field (name=..., description=..., tags=[...]); raises ContentRefused
    for the first text a rule refuses. Lists (tags, trigger words) are checked item by item."""
    if not _CHECKS:
        return
    items = []
    for field, value in fields.items():
        if value is None:
            continue
        texts = [value] if isinstance(value, str) else [str(item) for item in value]
        items += [(field, text) for text in texts if text]
    if items:
        for check in _CHECKS:
            check(items)
