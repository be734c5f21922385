"""@mentions in comments (docs/comments.md#mentions): `@username` of an existing active user becomes
a link to their profile in the rendered HTML, and the user is returned so the comment stores them."""

import re

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape

from .usernames import USERNAME_PATTERN

# Not after a letter, digit or one of . _ - / @ (an email address, a path) and not inside a longer name.
MENTION = re.compile(rf"(?<![\w.@/-])@({USERNAME_PATTERN.pattern})(?![\w-]|\.\w)")
MAX_MENTIONS = 20  # a comment naming more people notifies the first 20
# The sanitised HTML as tags and text; mentions are only looked for in text outside <a>, <code>, <pre>.
_TAG = re.compile(r"(<[^>]*>)")
_SKIP = {"a", "code", "pre"}


def mentioned_names(source: str) -> list[str]:
    """The names written as @name, in order, without repeats."""
    return list(dict.fromkeys(MENTION.findall(source or "")))[: MAX_MENTIONS * 5]


def link_mentions(html: str, source: str) -> tuple[str, list]:
    """`html` (already rendered and sanitised) with each @name of an active user linked to their
    profile, and those users. Names of nobody stay as text."""
    names = mentioned_names(source)
    if not names:
        return html, []
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
    if not users:
        return html, []
    found: dict[str, object] = {}
    depth = 0
    parts = _TAG.split(html)
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part.strip("</>").split(None, 1)[0].lower() if part.strip("</>") else ""
            if name in _SKIP:
                depth += -1 if part.startswith("</") else 1
            continue
        if depth > 0:
            continue

        def link(match):
            user = users.get(match.group(1))
            if user is None or (user.username not in found and len(found) >= MAX_MENTIONS):
                return match.group(0)
            found[user.username] = user
            url = reverse("community:user_profile", args=[user.username])
            return f'<a href="{escape(url)}" class="mention" rel="nofollow ugc">@{escape(user.username)}</a>'

        parts[i] = MENTION.sub(link, part)
    return "".join(parts), list(found.values())
