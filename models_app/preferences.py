"""What a visitor chose to see: the one reader of the viewer's browsing levels (docs/moderation.md#nsfw-levels).

Every page and API list asks `browsing` (pages) or `api_mask` (APIs) rather than reading the preference
itself, so home, search, tag pages, /models/, the model page, profiles, feeds and the APIs can't
disagree. A browsing mask is a sum of levels (models_app/levels.py): anonymous visitors see PG only
(mask 1) and hide the rest; signed-in people choose their levels and hide or blur what is above them
(ViewerPreference, one row per account). Blocked (32) is never in anyone's choice: moderators get it
added, and owners see their own content on their profile and their model pages whatever the mask.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from . import levels
from .compiled import Built
from .models import ViewerPreference

REQUEST_CACHE = "_browsing_preference"


@dataclass(frozen=True)
class Browsing:
    mask: int  # the levels listed as they are
    blur: bool = False  # pages list the other levels (Blocked aside) blurred, with a reveal control

    @property
    def listed(self) -> int:
        """What page lists fetch: the mask, plus every viewer-choosable level when blurring."""
        return self.mask | levels.ALL if self.blur else self.mask

    def shows(self, level: int) -> bool:
        return bool(int(level) & self.mask)

    def blurs(self, level: int) -> bool:
        """Listed, but blurred until the viewer reveals it."""
        return not self.shows(level) and bool(int(level) & self.listed)

    @property
    def mask_label(self) -> str:
        return ", ".join(levels.label(level) for level in levels.bits(self.mask))

    def choices(self) -> list[int]:
        """The levels a viewer picked, for the settings form (Blocked is never a choice)."""
        return [level for level in levels.bits(self.mask) if level & levels.ALL]


def _is_moderator(user) -> bool:
    return user.is_authenticated and user.has_perm("models_app.moderate_content")


def stored(user) -> Browsing:
    """A signed-in person's own choice (PG only and hide when they made none)."""
    if not user.is_authenticated:
        return Browsing(levels.DEFAULT_MASK)
    # Usually loaded with the session's user (hub/auth_backends.py): then no query.
    if get_user_model().viewer_preference.is_cached(user):
        row = user.viewer_preference if hasattr(user, "viewer_preference") else None
        rows = [(row.browsing_levels, row.blur_mature)] if row else []
    else:
        rows = _stored.rows(user.pk)
    if not rows:
        return Browsing(levels.DEFAULT_MASK)
    return Browsing((rows[0][0] & levels.ALL) or levels.DEFAULT_MASK, bool(rows[0][1]))


# Read on every page someone signed in opens: built once (models_app/compiled.py).
_stored = Built(
    lambda user_id: ViewerPreference.objects.filter(user_id=user_id).values_list(
        "browsing_levels", "blur_mature"
    )
)


def allowed(user, mask: int) -> int:
    """A mask with what this viewer may not see taken out (Blocked, but for moderators)."""
    return mask & (levels.EVERYTHING if _is_moderator(user) else levels.ALL)


def browsing(request) -> Browsing:
    """What pages show this request: the stored choice, with Blocked added for moderators."""
    cached = getattr(request, REQUEST_CACHE, None)
    if cached is not None:
        return cached
    choice = stored(request.user)
    choice = Browsing(mask_of(request.user, choice), choice.blur)
    setattr(request, REQUEST_CACHE, choice)
    return choice


def mask_of(user, choice: Browsing | None = None) -> int:
    """The levels `user` browses, for callers with a user but no session (an API key): their stored
    choice, with Blocked added for moderators."""
    mask = (choice or stored(user)).mask
    return mask | levels.NsfwLevel.BLOCKED if _is_moderator(user) else mask


def api_mask(request, *, asked: int | None = None, user=None) -> int:
    """The mask of an API list: the request's own parameter (`nsfw`, `browsingLevel`) when it sent one
    (tools have no session), else the viewer's stored levels. `user`: the caller when an API key names
    them (default: the session's). Never blurred: APIs list or leave out."""
    user = user if user is not None else request.user
    if asked is not None:
        return allowed(user, asked)
    return mask_of(user)


def asked_flag(value: str | None) -> bool | None:
    """A plain `nsfw=` parameter: true/1 → True, another value → False, absent or empty → None."""
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true")
