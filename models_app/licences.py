"""The licence check (docs/moderation.md#licence-check): a creator's permission flags against the licence
of the base model a version was trained on. A fine-tune of a non-commercial base can't be offered for
sale or for paid generation; the model page lists such contradictions and publishing refuses them."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import AIModel, BaseModel

# (the model's flag, the base model's flag, what the flag allows, as the page says it)
CHECKS = (
    ("allow_commercial_images", "allows_commercial_images", gettext_noop("selling images made with it")),
    (
        "allow_commercial_rent",
        "allows_commercial_rent",
        gettext_noop("running it on paid generation services"),
    ),
    ("allow_commercial_sell", "allows_commercial_sell", gettext_noop("selling it or merges of it")),
)


def contradictions(model: AIModel, base_model: BaseModel) -> list[str]:
    """One sentence per permission `model` grants that `base_model`'s licence does not; [] when they
    agree or the base model has no recorded terms."""
    if base_model is None or not base_model.license_name:
        return []
    found = []
    for mine, theirs, use in CHECKS:
        if getattr(model, mine) and not getattr(base_model, theirs):
            found.append(
                _("This model allows %(use)s, but %(base)s's licence (%(licence)s) does not.")
                % {"use": _(use), "base": base_model.name, "licence": base_model.license_name}
            )
    return found


def publish_refusal(model: AIModel, base_model: BaseModel) -> str | None:
    """Why a version on `base_model` can't be published with `model`'s permissions, or None."""
    found = contradictions(model, base_model)
    if not found:
        return None
    return " ".join(found) + " " + _("Change the model's permissions before publishing.")
