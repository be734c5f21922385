"""The comments section of the model page and the image page (docs/comments.md#pages). models_app's
and resources' templates load this; they never import community. Its queries don't grow with the
number of comments (tests/community/test_comments.py counts them)."""

import functools

from django import template
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy

from billing import selectors as billing_selectors
from community import comments
from community.models import MAX_COMMENT_DEPTH, MAX_COMMENT_LENGTH, CommentTarget
from models_app import page_cache
from models_app.models import AIModel

register = template.Library()

# A comment's actions on the model page: parts of the page kept for signed-in viewers
# (models_app/page_cache.py; community/apps.py registers them).
ACTIONS_PART = "community.comment_actions"

KINDS = [
    ("like", "👍", gettext_lazy("Like")),
    ("heart", "❤️", gettext_lazy("Love")),
    ("laugh", "😂", gettext_lazy("Funny")),
    ("cry", "😢", gettext_lazy("Sad")),
]


def _button_formats(kinds) -> dict[str, str]:
    """Per kind, a reaction button with its escaped label filled in once per section; a comment
    then fills in only numbers and fixed words (no escaping needed per comment)."""

    def braces(text: str) -> str:  # the result is formatted again per comment
        return text.replace("{", "{{").replace("}", "}}")

    return {
        k: format_html(
            '<button type="submit" name="kind" value="{}" class="reaction{{mine}}" aria-pressed="{{pressed}}" '
            'aria-label="{}: {{count}}" title="{}" data-testid="react-{}">{} '
            '<span data-testid="reaction-count">{{count}}</span></button>',
            k,
            braces(label),
            braces(label),
            k,
            emoji,
        )
        for k, emoji, label in kinds
    }


def _reaction_buttons(node, kinds, formats: dict[str, str], can_write: bool) -> str:
    """A comment's reaction buttons (or, for a visitor who can't react, the non-zero counts), built
    here rather than in the template: four buttons of six values each were half of the section's
    rendering time (bench/bench_model_page.py)."""
    c = node.comment
    counts = [(k, emoji, label, int(getattr(c, f"{k}_count"))) for k, emoji, label in kinds]
    if not can_write:
        return format_html_join(
            "", '<span class="reaction" title="{}">{} {}</span>', ((lb, e, n) for k, e, lb, n in counts if n)
        )
    return mark_safe(  # noqa: S308 - the formats are escaped; only ints and fixed words go in
        "".join(
            formats[k].format(
                mine=" mine" if k in node.mine else "", pressed="true" if k in node.mine else "false", count=n
            )
            for k, _e, _lb, n in counts
        )
    )


def _opened(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def section_context(request, target: comments.Target, page: int, *, csrf_token=None, notice="") -> dict:
    """What the section shows. `?reply=<id>` / `?edit=<id>` (on the page or the section's own URL)
    open the reply or edit form of that one comment: every other comment carries only links, which
    keeps the section cheap to render (docs/comments.md#pages)."""
    user = request.user
    roots, has_next = comments.threads(target, page=page, viewer=user)
    kinds, formats = _reaction_formats()
    shown = [node for root in roots for node in (root, *root.walk())]
    # One query for the page's authors: who has a live membership now (docs/billing.md#entitlements).
    members = billing_selectors.member_ids({node.comment.user_id for node in shown}) if shown else set()
    for node in shown:
        node.reactions = _reaction_buttons(node, kinds, formats, user.is_authenticated)
        node.is_member = node.comment.user_id in members
    section_url, page_url = _section_urls(target)
    actions = _actions_context(request, target, page, csrf_token, section_url, page_url)
    live = [node for node in shown if not node.comment.is_deleted]
    _draw_actions(live, actions)
    if target.type == CommentTarget.MODEL:  # the model page's: drawn for each viewer of a kept one
        for node in live:
            page_cache.note_part(request, ACTIONS_PART, node.comment.id, node.actions)
    if target.type == CommentTarget.MODEL:
        count = target.obj.comment_count  # kept exact by comments.py
    else:
        count = comments.visible_count(target)
    return {
        **actions,
        "target": target,
        "notice": notice,
        "roots": roots,
        "count": count,
        "older_url": f"{page_url}?{urlencode({'comments_page': page + 1})}#comments" if has_next else "",
        "older_fragment": f"{section_url}?page={page + 1}" if has_next else "",
        "newer_url": (f"{page_url}?{urlencode({'comments_page': page - 1})}" if page > 2 else page_url)
        + "#comments"
        if page > 1
        else "",
        "newer_fragment": f"{section_url}?page={page - 1}" if page > 1 else "",
        "owner_id": target.owner_id,
        "profile_prefix": reverse("community:user_profile", args=["x"]).removesuffix("x"),
        "login_url": f"/accounts/login/?{urlencode({'next': page_url + '#comments'})}",
    }


def _reaction_formats():
    return _reaction_formats_in(get_language())


@functools.cache
def _reaction_formats_in(language: str):
    """The kinds with their labels in `language`, the active one, and their buttons: translated and
    escaped once per language and process, not on every page (a tenth of drawing a commenter's
    parts of a kept page)."""
    kinds = [(k, e, str(label)) for k, e, label in KINDS]
    return kinds, _button_formats(kinds)


def _section_urls(target: comments.Target) -> tuple[str, str]:
    """The section's own URL (its fragments) and the page's, without its anchor."""
    section = target.type if target.type == CommentTarget.IMAGE else CommentTarget.MODEL
    return reverse("community_comments:section", args=[section, target.id]), target.url.split("#")[0]


def _actions_context(request, target: comments.Target, page: int, csrf_token, section_url, page_url) -> dict:
    """What a comment's actions and its open reply or edit form need (_comment_actions.html)."""
    user = request.user
    return {
        "user": user,
        "csrf_token": csrf_token,
        "page": page,
        "reply_to": _opened(request.GET.get("reply")) if request.method == "GET" else None,
        "edit_id": _opened(request.GET.get("edit")) if request.method == "GET" else None,
        "open_url": f"{page_url}?comments_page={page}&",
        "open_fragment": f"{section_url}?page={page}&",
        "here_url": f"{page_url}?comments_page={page}" if page > 1 else page_url,
        "here_fragment": f"{section_url}?page={page}",
        "post_url": reverse("community_comments:post", args=[target.type, target.id]),
        "can_write": user.is_authenticated,
        "is_owner": user.is_authenticated and target.owner_id == user.id,
        "max_depth": MAX_COMMENT_DEPTH,
        "max_length": MAX_COMMENT_LENGTH,
        # Reversed once, not for every comment: `{{ comment_prefix }}{{ id }}/react` (the page's cost).
        "comment_prefix": reverse("community_comments:react", args=[0]).removesuffix("0/react"),
    }


def _draw_actions(nodes, actions: dict) -> None:
    """Each node's actions (node.actions), in one template context pushed per comment."""
    template = get_template("community/comments/_comment_actions.html").template
    context = Context(actions)
    for node in nodes:
        with context.push(node=node):
            node.actions = mark_safe(template.render(context))  # noqa: S308 - a rendered template


def _page_number(request) -> int:
    try:
        return min(max(int(request.GET.get("comments_page", 1)), 1), comments.MAX_PAGE)
    except ValueError:
        return 1


@register.inclusion_tag("community/comments/_comments.html", takes_context=True)
def comments_section(context, thing, versions=None):
    """`{% comments_section model versions %}` (the model's and its shown versions' comments) or
    `{% comments_section image %}`."""
    request = context["request"]
    if isinstance(thing, AIModel):
        target = comments.model_page_target(request.user, thing, versions)
    else:
        target = comments.Target(CommentTarget.IMAGE, thing)
    return section_context(request, target, _page_number(request), csrf_token=context.get("csrf_token"))


def draw_comment_actions(request, model, comment_ids: list[int], csrf_token: str) -> dict[int, str]:
    """The actions of the comments request.user wrote or reacted to among these, for the kept model
    page (ACTIONS_PART): those comments with their reactions in one query (comments.own_nodes); the
    others keep the blank viewer's actions."""
    own = comments.own_nodes(request.user, model)
    nodes = [own[comment_id] for comment_id in comment_ids if comment_id in own]
    if not nodes:
        return {}
    kinds, formats = _reaction_formats()
    for node in nodes:
        node.reactions = _reaction_buttons(node, kinds, formats, request.user.is_authenticated)
    target = comments.Target(CommentTarget.MODEL, model, model=model)
    actions = _actions_context(request, target, _page_number(request), csrf_token, *_section_urls(target))
    _draw_actions(nodes, actions)
    return {node.comment.id: node.actions for node in nodes}
