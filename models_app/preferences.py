"""What a visitor chose to see: the one reader of the "Show mature models" switch.

Every page and API list asks `show_mature` rather than the session, so home, search, tag pages,
/models/, the model page and the APIs can't disagree. Pages: a logged-in visitor who switched it on
(kept in the session). APIs: the request's own `nsfw` parameter when it sends one (tools have no
session), else the same session preference.
"""

SESSION_KEY = "show_nsfw"


def show_mature(request, *, asked: bool | None = None) -> bool:
    """Whether mature models are shown to this request. `asked`: an API's own `nsfw` parameter,
    parsed by the API (None when the request did not send one)."""
    if asked is not None:
        return asked
    return bool(request.user.is_authenticated and request.session.get(SESSION_KEY))


def asked_flag(value: str | None) -> bool | None:
    """A plain `nsfw=` parameter: true/1 → True, another value → False, absent or empty → None."""
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true")


def set_show_mature(request, show: bool) -> None:
    """Only logged-in visitors can opt in; for anyone else the switch changes nothing."""
    if request.user.is_authenticated:
        request.session[SESSION_KEY] = bool(show)
