"""Model pages as visitors who are not signed in see them, rendered once every few seconds
(docs/performance.md#the-model-page).

Every such visitor sees the same page in their language, so one render per MODEL_PAGE_CACHE_SECONDS
serves them all; the rest of the time their page costs the model's visibility check (one query) and
one cache read. What decides whether the page may be seen is still checked on every request: the
model's row is read first (unpublished, blocked or gone is at once a 404), and a change to that row
(an edit, a new level) is a new key, since the key holds its `updated_at`. A moderation decision
empties every page (`forget_all`). The rest of the page (new comments, images, reviews, counts)
reaches these visitors within MODEL_PAGE_CACHE_SECONDS, as list totals lag by LIST_CACHE_SECONDS;
signed-in people, and a visitor with a message waiting, always get a page rendered for them.

The page's forms carry a CSRF token, which must be the visitor's own: it is rendered as a placeholder
and replaced by the visitor's token in every answer.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

GENERATION_KEY = "model-page:generation"
# Rendered in place of the CSRF token; letters only, so no escaping changes it.
TOKEN_PLACEHOLDER = "modelpagecsrftokenplaceholder"


def applies(request) -> bool:
    """Whether this request may be answered with the page every anonymous visitor gets."""
    return (
        settings.MODEL_PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and not request.user.is_authenticated
        and not len(messages.get_messages(request))  # len() reads them without using them up
    )


def _key(request, model) -> str:
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"model-page:{model.pk}:{model.updated_at.timestamp()}:{get_language()}:{path}"


def cached(request, model) -> HttpResponse | None:
    """The page kept for this request's anonymous visitors, or None (then render it with `render`)."""
    key = _key(request, model)
    found = cache.get_many([key, GENERATION_KEY])
    entry = found.get(key)
    if entry is None or entry[0] != found.get(GENERATION_KEY, 0):
        return None
    return _answer(request, entry[1])


def render(request, template: str, context: dict) -> HttpResponse:
    """Render the page with the token placeholder, keep it, and answer with the visitor's token."""
    generation = cache.get(GENERATION_KEY, 0)
    html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
    cache.set(_key(request, context["model"]), (generation, html), settings.MODEL_PAGE_CACHE_SECONDS)
    return _answer(request, html)


def _answer(request, html: str) -> HttpResponse:
    # get_token also has CsrfViewMiddleware set the visitor's CSRF cookie, as rendering would.
    return HttpResponse(html.replace(TOKEN_PLACEHOLDER, get_token(request)))


def forget_all() -> None:
    """Drop every kept page: a moderation decision shows at once."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what pages hold
        cache.set(GENERATION_KEY, 1, None)
