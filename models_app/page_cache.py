"""Answers for callers who are not signed in, kept for a few seconds: the model page, the search page
and its suggestions, the browse and home pages, and the CivitAI models list
(docs/performance.md#kept-for-anonymous-visitors).

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
`s-maxage=300` lets proxies keep them). API keys and a visitor with a message waiting always get an
answer built for them; signed-in people do, but for the model page and the lists below.

The pages' forms carry a CSRF token, which must be the visitor's own: it is rendered as a
placeholder and replaced by the visitor's token in every answer.

A signed-in person's model page is kept too, per browsing levels, when nothing on it is theirs
(docs/performance.md#kept-for-signed-in-viewers): it is built for a blank viewer, who owns, follows,
reviewed and wrote nothing, and the parts that are every viewer's own (the header's name and bell,
the collections picker, the follow button, a version's early-access panel; each version's review
form and each comment's actions, drawn for those who reviewed or commented there) are holes drawn
for each request. One query asks the apps
whose blocks show a viewer's own things (VIEWER_STATE_CHECKS) whether this viewer has any there, and
reads what the holes that registered values show them (HOLE_VALUES); when they have something of
their own outside the holes, and for the creator, moderators and staff, the page is built for them,
and kept for that viewer alone until they change something (WROTE_COOKIE) or the model's versions
or files change, with their header drawn in.
Their search, browse and home pages are kept the same way, per levels and blur, with only the
header's part drawn in.
"""

import contextlib
import hashlib
import operator
import os
import uuid
from functools import reduce
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import BooleanField, Case, DateTimeField, Exists, ExpressionWrapper, Q, Value, When
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import RequestContext
from django.template.loader import get_template, render_to_string
from django.utils.translation import get_language

from . import selectors
from .compiled import Built
from .models import AIModel

GENERATION_KEY = "kept:generation"
# With the embedded local-memory cache each process keeps its own answers, so the generation lives
# in a file every process of this machine reads (a few microseconds a request): a decision taken in
# one web process drops what the others kept too.
GENERATION_FILE = "kept-generation"
# Kept lists (search, browse, home, the CivitAI list) also carry the lists' own generation, which any
# change to a model's card moves (forget_lists, on commit of cards.refresh_card_fields): a model
# published, edited, unpublished or deleted shows in them at once, as on its own page.
LISTS_GENERATION_KEY = "kept:lists-generation"
LISTS_GENERATION_FILE = "kept-lists-generation"
# Rendered in place of the CSRF token; letters only, so no escaping changes it.
TOKEN_PLACEHOLDER = "modelpagecsrftokenplaceholder"


def on() -> bool:
    return settings.ANONYMOUS_CACHE_SECONDS > 0


def _per_process() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _generation_file(name: str = GENERATION_FILE) -> Path:
    return Path(settings.VAR_DIR) / name


def _generations(lists: bool) -> tuple[list[str], list[str]]:
    """The cache keys and files of the generations an answer carries."""
    if lists:
        return [GENERATION_KEY, LISTS_GENERATION_KEY], [GENERATION_FILE, LISTS_GENERATION_FILE]
    return [GENERATION_KEY], [GENERATION_FILE]


def _read_files(names: list[str]) -> str:
    values = []
    for name in names:
        try:
            values.append(_generation_file(name).read_text())
        except FileNotFoundError:
            values.append("")
    return ":".join(values)


def _from_cache(found: dict, keys: list[str]) -> str:
    return ":".join(str(found.get(key, 0)) for key in keys)


def generation(*, lists: bool = False) -> str:
    """Read before building an answer to keep, so a decision (or, for a list, a changed card) taken
    meanwhile still drops it."""
    keys, files = _generations(lists)
    if _per_process():
        return _read_files(files)
    return _from_cache(cache.get_many(keys), keys)


def get(key: str, *, lists: bool = False) -> str | None:
    """The text kept under `key`, unless a moderation decision (or, for a list, a changed card) came
    after it was built."""
    keys, files = _generations(lists)
    if _per_process():
        entry, current = cache.get(key), _read_files(files)
    else:  # one round trip for all
        found = cache.get_many([key, *keys])
        entry, current = found.get(key), _from_cache(found, keys)
    if entry is None or entry[0] != current:
        return None
    return entry[1]


def put(key: str, text: str, built_in: str) -> None:
    cache.set(key, (built_in, text), settings.ANONYMOUS_CACHE_SECONDS)


def forget_all() -> None:
    """Drop every kept answer, in every process: a moderation decision shows at once."""
    _move(GENERATION_KEY, GENERATION_FILE)


def forget_lists() -> None:
    """Drop every kept list, in every process: a model's card changed (cards.refresh_card_fields)."""
    _move(LISTS_GENERATION_KEY, LISTS_GENERATION_FILE)


def _move(key: str, name: str) -> None:
    if _per_process():
        path = _generation_file(name)
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(uuid.uuid4().hex)
        os.replace(temporary, path)  # readers see the old value or the new one, never half of one
        return
    try:
        cache.incr(key)
    except ValueError:  # not set yet (or evicted): any new value differs from what entries hold
        cache.set(key, 1, None)


def request_key(prefix: str, request, *parts) -> str:
    """A key for what `request` asks: its scheme and host (answers hold absolute URLs), path and
    query string."""
    asked = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return ":".join([prefix, *map(str, parts), hashlib.sha256(asked.encode()).hexdigest()[:32]])


# --- Pages: the model page and the lists (models_app.views)


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


def cached(request, key: str, *, lists: bool = False) -> HttpResponse | None:
    """The page kept under `key` for anonymous visitors, or None (then render it with `render`).
    `lists`: a list, dropped when any card changes."""
    html = get(key, lists=lists)
    return None if html is None else _answer(request, html)


def render(request, key: str, template: str, context: dict, *, lists: bool = False) -> HttpResponse:
    """Render the page with the token placeholder, keep it, and answer with the visitor's token."""
    built_in = generation(lists=lists)
    html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
    put(key, html, built_in)
    return _answer(request, html)


def _answer(request, html: str) -> HttpResponse:
    # get_token also has CsrfViewMiddleware set the visitor's CSRF cookie, as rendering would.
    return HttpResponse(html.replace(TOKEN_PLACEHOLDER, get_token(request)))


# --- The model page for signed-in viewers (models_app.views.model_detail)

# The blank viewer's name: letters only, so no escaping changes it; a kept page must not hold it.
VIEWER_PLACEHOLDER = "keptpageblankviewer"
# The parts of a kept page drawn for each viewer, as templates rendered with the page's model (and
# HOLE_VALUES); apps add theirs with register_viewer_hole.
VIEWER_HOLES = ["_viewer_nav.html", "models_app/_model_collections.html"]
# Parts of the page that differ between viewers, noted by the blocks that draw them (note_part): a
# version's review form, a comment's actions. name -> (draw, drawn_if): register_viewer_parts.
VIEWER_PARTS: dict = {}
PARTS_NOTED = "_kept_page_parts"  # where a request collects them
# What holes show, read in the own-state check's query: name -> values(user, model) -> an expression
# on the model's row (a Subquery, Exists...) that may use only the two ids, as the checks below.
HOLE_VALUES: dict = {}
# Apps whose blocks on the model page show a viewer's own things register here:
# check(user, model) -> a QuerySet with rows when `user` has something of theirs on `model`'s page.
# It is built once with stand-ins for both (visible_model_and_state), so it may use only their ids.
VIEWER_STATE_CHECKS: list = []


def register_viewer_state_check(check):
    """Add a check to VIEWER_STATE_CHECKS once (AppConfig.ready can run more than once in tests)."""
    if check not in VIEWER_STATE_CHECKS:
        VIEWER_STATE_CHECKS.append(check)
        _forget_built()
    return check


def register_viewer_hole(template: str, values: dict | None = None) -> None:
    """Draw `template` for each viewer of a kept page, with `values` (name -> values(user, model))
    read for them by the own-state check's query and put in its context; a template rendered
    without them (the page built for someone) asks for what it shows itself."""
    if template not in VIEWER_HOLES:
        VIEWER_HOLES.append(template)
    _add_values(values)


def register_viewer_parts(name: str, draw, values: dict | None = None, drawn_if: str | None = None) -> None:
    """Parts named `name` (noted with note_part as the page is drawn) are holes of a kept page.
    `draw(request, model, part_ids, csrf_token)` -> {part id: text} draws those that request.user
    sees otherwise than the blank viewer; the others keep the blank viewer's text. It is called only
    for viewers for whom the value `drawn_if` (of `values`, read by the own-state check's query) is
    true, so most viewers cost nothing."""
    VIEWER_PARTS[name] = (draw, drawn_if)
    _add_values(values)


def _add_values(values: dict | None) -> None:
    HOLE_VALUES.update(values or {})
    _forget_built()


def note_part(request, name: str, part_id: int, text: str) -> None:
    """A block of the model page drew `text`, a part that differs between viewers: on a page being
    kept it is a hole (register_viewer_parts). Elsewhere the note is not read."""
    request.__dict__.setdefault(PARTS_NOTED, []).append((name, part_id, text))


def applies_to_one_viewer(request) -> bool:
    """Whether this request may get a page kept for its viewer alone (`keep_own`)."""
    return (
        on()
        and request.method == "GET"
        and request.user.is_authenticated
        and not len(messages.get_messages(request))
    )


def applies_signed_in(request) -> bool:
    """Whether this request may get a page kept for signed-in viewers: a list (search, browse, home),
    or the model page if nothing on it is theirs (`visible_model_and_state`). Moderators and staff get theirs built
    (and kept for them alone), and so does a model's creator (the view knows them once it has the model)."""
    return applies_to_one_viewer(request) and sees_as_others_do(request.user)


def sees_as_others_do(user) -> bool:
    """Neither staff nor a moderator: what a signed-in page shows them is what the blank viewer sees."""
    return not user.is_staff and not selectors.can_moderate(user)


def _own_state_values(viewer_id: int, model_id: int) -> dict:
    """`own_state` and HOLE_VALUES, as expressions on the model's row."""
    viewer, model = get_user_model()(pk=viewer_id), AIModel(pk=model_id)
    conditions = [Exists(check(viewer, model)) for check in VIEWER_STATE_CHECKS]
    own = ExpressionWrapper(
        Q(reduce(operator.or_, conditions or [Value(False, BooleanField())])), BooleanField()
    )
    # The model's creator gets their own page whatever the checks say: the database skips them (a
    # creator of 257 models spent 1.9 ms of a 2.8 ms query there, at 1M).
    own = Case(When(owner_id=viewer_id, then=Value(True)), default=own, output_field=BooleanField())
    return {"own_state": own, **{name: value(viewer, model) for name, value in HOLE_VALUES.items()}}


def _model_and_own_state_query(model_id: int, viewer_id: int):
    own_state = _own_state_values(viewer_id, model_id)
    # For its creator, when its versions and files last changed, read on the same row (the page kept
    # for them alone); for anyone else a CASE the database does not go into.
    for_creator = {
        name: Case(When(owner_id=viewer_id, then=changed), output_field=DateTimeField())
        for name, changed in selectors.versions_changed_annotations().items()
    }
    return selectors.one_visible_to_signed_in(model_id, viewer_id).annotate(**own_state, **for_creator)


# Its subqueries cost more to build with the ORM than to run: built once (models_app/compiled.py).
_model_and_own_state = Built(_model_and_own_state_query)


def _forget_built() -> None:
    """What the own-state query reads changed (a registry): build it again."""
    _model_and_own_state.forget()


def visible_model_and_state(user, pk: int) -> tuple[AIModel | None, bool, dict]:
    """selectors.visible_model for a signed-in viewer who is no moderator (applies_signed_in), with
    whether the page shows them anything of their own and what its holes show them (HOLE_VALUES),
    read on the same row: one query for all, the model page's first. A model they can't see (deleted
    meanwhile) counts as their own: no kept page, the page built says what happened."""
    found = _model_and_own_state.objects(pk, user.pk) if selectors.is_model_id(pk) else []
    if not found:
        return None, True, {}
    model = found[0]
    return model, bool(model.own_state), {name: getattr(model, name) for name in HOLE_VALUES}


def signed_in_model_page_key(request, model, browsing) -> str:
    return request_key(
        "model-page-viewer",  # pieces: answer_signed_in
        request,
        model.pk,
        model.updated_at.timestamp(),
        get_language(),
        browsing.mask,
        browsing.blur,
    )


def blank_viewer():
    """Someone signed in with nothing of their own anywhere: no row has their id (0)."""
    return get_user_model()(pk=0, username=VIEWER_PLACEHOLDER, is_active=True)


@contextlib.contextmanager
def as_blank_viewer(request):
    """request.user is the blank viewer inside, and the viewer again after, whatever happened: what
    is built inside is kept for every signed-in viewer."""
    viewer, request.user = request.user, blank_viewer()
    try:
        yield
    finally:
        request.user = viewer


def cached_signed_in(request, key: str, model, values: dict) -> HttpResponse | None:
    """The kept page with this viewer's holes drawn in (with `values`: `visible_model_and_state`), or None
    (then build it: `keep_signed_in`)."""
    pieces = get(key)
    return None if pieces is None else answer_signed_in(request, pieces, model, values)


def keep_signed_in(request, key: str, template: str, context: dict, model) -> list | None:
    """Render the page and its holes for the blank viewer (request.user while the view builds it),
    cut the holes out and keep the rest; None when a hole was not found once (nothing is kept)."""
    built_in = generation()
    request.__dict__[PARTS_NOTED] = []
    html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
    holes = _holes(request, model, visible_model_and_state(request.user, model.pk)[2])
    for name, part_id, text in request.__dict__.pop(PARTS_NOTED):
        if name in VIEWER_PARTS:
            holes[name, part_id] = text
    pieces = _cut(html, holes)
    if pieces is not None:
        put(key, pieces, built_in)
    return pieces


def answer_signed_in(request, pieces: list, model, values: dict) -> HttpResponse:
    """The kept pieces with the holes drawn for request.user. A piece is text or a hole: (template,
    None, the blank viewer's text) or (part name, part id, the blank viewer's text)."""
    holes = _holes(request, model, values)
    parts: dict[str, list] = {}
    for piece in pieces:
        if isinstance(piece, tuple) and piece[1] is not None:
            parts.setdefault(piece[0], []).append(piece[1])
    for name, part_ids in parts.items():
        draw, drawn_if = VIEWER_PARTS[name]
        if drawn_if is None or values.get(drawn_if):
            drawn = draw(request, model, part_ids, TOKEN_PLACEHOLDER)
            holes.update(((name, part_id), text) for part_id, text in drawn.items())
    return _answer(request, _joined(pieces, holes))


def _joined(pieces: list, holes: dict[tuple, str]) -> str:
    return "".join(holes.get(p[:2], p[2]) if isinstance(p, tuple) else p for p in pieces)


def _holes(request, model, values: dict, names: list[str] = VIEWER_HOLES) -> dict[tuple, str]:
    """The whole-page holes drawn for request.user. One context for all of them, as render_to_string
    would make it (the values above the context processors'), bound once: the processors run once,
    not once per hole."""
    templates = [get_template(name).template for name in names]
    if not templates:
        return {}
    context = RequestContext(request)
    context.push({"model": model, "csrf_token": TOKEN_PLACEHOLDER, **values})
    drawn = {}
    with context.bind_template(templates[0]):
        for name, template in zip(names, templates, strict=True):
            with context.push():  # what one hole sets stays in it
                drawn[name, None] = template.render(context)
    return drawn


# --- The model page built for one viewer (models_app.views._kept_for_them)

# The page of a viewer with something of their own on it (its creator; a draft of theirs in its
# lineage, an image shown to them alone), or of a moderator or staff, is built for them, and kept for
# them alone (docs/performance.md#kept-for-one-viewer). Its key holds WROTE_COOKIE, which a
# signed-in browser's every form, reaction or other unsafe request changes
# (hub.middleware.WroteCookieMiddleware): what they just did shows at once. It holds when the model's
# versions and files last changed too, so what a worker did for them (a file ready, a version
# published) shows at once, and the count of their bell, so what notifies them (a comment or a review
# on their model) shows at once too; anything else (others' replies, reactions, counts) within
# ANONYMOUS_CACHE_SECONDS, as on every kept page. Their header (the bell: a moderator's is not in the
# key) is drawn for each request.
WROTE_COOKIE = "hub_wrote"
OWN_PAGE_HOLES = ["_viewer_nav.html"]


def own_model_page_key(request, model, browsing, values: dict) -> str:
    """`values`: `visible_model_and_state`'s ({} for moderators and staff)."""
    if model.owner_id == request.user.pk and hasattr(model, "files_changed_at"):  # read with its row
        versions = f"{model.versions_changed_at},{model.files_changed_at}"
    else:  # a query of its own: read with the row for everyone, it cost each page 0.06 ms in-process
        versions = selectors.versions_changed_at(model.pk)
    changed = f"{versions}|{request.COOKIES.get(WROTE_COOKIE, '')}"
    # What they may see: a moderator no longer one (or staff) must not get the page kept for them as one.
    role = f"{int(selectors.can_moderate(request.user))}{int(request.user.is_staff)}"
    return request_key(
        "model-page-own",
        request,
        request.user.pk,
        role,
        model.pk,
        model.updated_at.timestamp(),
        get_language(),
        browsing.mask,
        browsing.blur,
        # What concerns them notifies them (a comment or a review on their model): a new one shows.
        values.get("viewer_unread", ""),
        hashlib.sha256(changed.encode()).hexdigest()[:16],  # text from anywhere, as a safe key part
    )


def keep_own(request, key: str, template: str, context: dict, model, values: dict) -> HttpResponse:
    """Render the page built for request.user, keep it for them with their header cut out (`values`:
    `visible_model_and_state`'s) and answer it; when the header is not found once, answered, not kept."""
    built_in = generation()
    html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
    pieces = _cut(html, _holes(request, model, values, OWN_PAGE_HOLES))
    if pieces is not None:
        put(key, pieces, built_in)
    return _answer(request, html)


# --- Lists for signed-in viewers: search, browse, the home page (models_app.views._kept_list)

# Search results, browse pages and the home page's latest models depend on the URL and the viewer's
# levels and blur alone (published models, no per-viewer rule), so a signed-in viewer's page is kept
# like the model page, built for the blank viewer, with only the header's signed-in part drawn for
# each (docs/performance.md#kept-for-signed-in-viewers).
HEADER_HOLES = ["_viewer_nav.html"]


def shared_page_key(request, name: str) -> str:
    """The page `name` at this URL as every anonymous visitor gets it, in their language."""
    return request_key(name, request, get_language())


def signed_in_page_key(request, name: str, browsing) -> str:
    """The page `name` at this URL kept for signed-in viewers, per language, levels and blur."""
    return request_key(f"{name}-viewer", request, get_language(), browsing.mask, browsing.blur)


def cached_with_holes(
    request, key: str, holes: list[str], model=None, values: dict | None = None, lists: bool = False
) -> HttpResponse | None:
    """The page kept under `key` with request.user's whole-page `holes` drawn in (with `model` and
    `values` in their context), or None: then build it and keep it (`keep_signed_in_page` for a list,
    `keep_own` for the model page kept for one viewer)."""
    pieces = get(key, lists=lists)
    if pieces is None:
        return None
    return _answer(request, _joined(pieces, _holes(request, model, values or {}, holes)))


def keep_signed_in_page(request, key: str, template: str, context: dict, holes: list[str]) -> HttpResponse:
    """Render the page for the blank viewer, keep it with `holes` cut out, and answer request.user with
    theirs drawn in. A page whose holes are not each found once is answered built for them, not kept."""
    built_in = generation(lists=True)
    with as_blank_viewer(request):
        html = render_to_string(template, {**context, "csrf_token": TOKEN_PLACEHOLDER}, request)
        pieces = _cut(html, _holes(request, None, {}, holes))
    if pieces is None:
        return HttpResponse(render_to_string(template, context, request))
    put(key, pieces, built_in)
    return _answer(request, _joined(pieces, _holes(request, None, {}, holes)))


def _cut(html: str, holes: dict[tuple, str]) -> list | None:
    """`html` as text pieces and the places of its holes, each hole found exactly once. None when one
    is not, or when the blank viewer's name is left outside them (that text would be wrong for
    everyone)."""
    found = []
    for place, hole in holes.items():
        if not hole.strip() or html.count(hole) != 1:
            return None
        found.append((html.index(hole), place, len(hole)))
    pieces: list = []
    at = 0
    for start, place, length in sorted(found, key=operator.itemgetter(0)):
        if start < at:
            return None
        pieces += [html[at:start], (*place, html[start : start + length])]
        at = start + length
    pieces.append(html[at:])
    if any(isinstance(piece, str) and VIEWER_PLACEHOLDER in piece for piece in pieces):
        return None
    return pieces
