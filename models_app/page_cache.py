"""Answers for callers who are not signed in, kept for a few seconds: the model page, the search page
and its suggestions, and the CivitAI models list (docs/performance.md#kept-for-anonymous-visitors).

Everyone who is not signed in gets the same model page in their language, the same results for
the same search and the same list for the same URL, so one build per ANONYMOUS_CACHE_SECONDS serves
them all: the popular pages (the first page of the newest LoRAs, a model linked from everywhere, a
trending word) are the ones asked for at once, under load.

What decides whether something may be seen is not kept: the model page reads and checks the model's
row on every request (unpublished, blocked or gone is at once a 404), and its key holds the row's
`updated_at`, so an edit shows at once. A moderation decision drops every kept answer, in every
process (`forget_all` changes a generation that each entry carries). The rest (new comments,
images, reviews, counts, a new model in a list) reaches these callers within
ANONYMOUS_CACHE_SECONDS (a model its owner unpublished leaves kept search results and lists
then too; its page is a 404 at once), as list totals lag by LIST_CACHE_SECONDS (and as the CivitAI answers' own
`s-maxage=300` lets proxies keep them). Signed-in people, API keys, and a visitor with a message
waiting always get an answer built for them.

The pages' forms carry a CSRF token, which must be the visitor's own: it is rendered as a
placeholder and replaced by the visitor's token in every answer.
"""

import hashlib
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

GENERATION_KEY = "kept:generation"
# With the embedded local-memory cache each process keeps its own answers, so the generation lives
# in a file every process of this machine reads (a few microseconds a request): a decision taken in
# one web process drops what the others kept too.
GENERATION_FILE = "kept-generation"
# Rendered in place of the CSRF token; letters only, so no escaping changes it.
TOKEN_PLACEHOLDER = "modelpagecsrftokenplaceholder"


def on() -> bool:
    return settings.ANONYMOUS_CACHE_SECONDS > 0


def _per_process() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _generation_file() -> Path:
    return Path(settings.VAR_DIR) / GENERATION_FILE


def generation() -> int | str:
    """Read before building an answer to keep, so a decision taken meanwhile still drops it."""
    if _per_process():
        try:
            return _generation_file().read_text()
        except FileNotFoundError:
            return ""
    return cache.get(GENERATION_KEY, 0)


def get(key: str) -> str | None:
    """The text kept under `key`, unless a moderation decision came after it was built."""
    if _per_process():
        entry, current = cache.get(key), generation()
    else:  # one round trip for both
        found = cache.get_many([key, GENERATION_KEY])
        entry, current = found.get(key), found.get(GENERATION_KEY, 0)
    if entry is None or entry[0] != current:
        return None
    return entry[1]


def put(key: str, text: str, built_in: int | str) -> None:
    cache.set(key, (built_in, text), settings.ANONYMOUS_CACHE_SECONDS)


def forget_all() -> None:
    """Drop every kept answer, in every process: a moderation decision shows at once."""
    if _per_process():
        path = _generation_file()
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(uuid.uuid4().hex)
        os.replace(temporary, path)  # readers see the old value or the new one, never half of one
        return
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from what entries hold
        cache.set(GENERATION_KEY, 1, None)


def request_key(prefix: str, request, *parts) -> str:
    """A key for what `request` asks: its scheme and host (answers hold absolute URLs), path and
    query string."""
    asked = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return ":".join([prefix, *map(str, parts), hashlib.sha256(asked.encode()).hexdigest()[:32]])


# --- Pages: the model page and search (models_app.views)


def applies(request) -> bool:
    """Whether this request may be answered with the page every anonymous visitor gets."""
    return (
        on()
        and request.method == "GET"
        and not request.user.is_authenticated
        and not len(messages.get_messages(request))  # len() reads them without using them up
    )


def model_page_key(request, model) -> str:
    return request_key("model-page", request, model.pk, model.updated_at.timestamp(), get_language())


def search_page_key(request) -> str:
    """The search page and the header's suggestions, by query (both in the URL)."""
    return request_key("search-page", request, get_language())


def cached(request, key: str) -> HttpResponse | None:
    """The page kept under `key` for anonymous visitors, or None (then render it with `render`)."""
    html = get(key)
    return None if html is None else _answer(request, html)


def render(request, key: str, template: str, context: dict) -> HttpResponse:
    """Render the page with the token placeholder, keep it, and answer with the visitor's token."""
    built_in = generation()
    html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
    put(key, html, built_in)
    return _answer(request, html)


def _answer(request, html: str) -> HttpResponse:
    # get_token also has CsrfViewMiddleware set the visitor's CSRF cookie, as rendering would.
    return HttpResponse(html.replace(TOKEN_PLACEHOLDER, get_token(request)))
