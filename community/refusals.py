"""One shape for every community refusal (comments, reviews, collections, profiles, lineage): an HTTP
status and a sentence, plus, for text a content rule refused, the machine-readable reason
(docs/moderation.md#transparent-refusals). The pages show `message`; the APIs answer `body()`."""

from dataclasses import dataclass, field

from models_app import content_rules


@dataclass
class Refused(Exception):
    status: int
    message: str
    # For a content rule: {"code": "blocked_term", "field": "body", "term": "..."}; else empty.
    reason: dict = field(default_factory=dict)

    def body(self) -> dict:
        return {"detail": self.message, **self.reason}


def check_text(refused_class: type[Refused], **fields) -> None:
    """content_rules.check_text, raising the caller's Refused (400 with the rule's reason) instead."""
    try:
        content_rules.check_text(**fields)
    except content_rules.ContentRefused as refused:
        reason = refused.as_dict()
        raise refused_class(400, reason.pop("detail"), reason) from None
