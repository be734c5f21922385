"""The comments section's forms post here (docs/comments.md#pages). Without script: a plain POST, then a
redirect back to the page (the message shown there). With static/js/comments.js: the same POST with
an `X-Comments: fragment` header, answered with the section's new HTML (or the refusal as plain text
and its status), which the script swaps in. The API is comments_api.py; both call comments.py."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import abuse, comments
from .models import Comment, CommentTarget
from .templatetags.community_comments import section_context


def _page(value) -> int:
    try:
        return min(max(int(value), 1), comments.MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def _section_target(user, target_type: str, target_id: int) -> comments.Target:
    """The section a page shows: the model page's (model and visible versions) or an image's."""
    if target_type == CommentTarget.MODEL:
        return comments.model_page_target(user, comments.find_target(user, target_type, target_id).obj)
    if target_type == CommentTarget.IMAGE:
        return comments.find_target(user, target_type, target_id)
    raise Http404


def _section_of(user, comment: Comment) -> comments.Target:
    if comment.image_id:
        return _section_target(user, CommentTarget.IMAGE, comment.image_id)
    return _section_target(user, CommentTarget.MODEL, comment.model_id)


def _wants_fragment(request) -> bool:
    return request.headers.get("X-Comments") == "fragment"


def _page_url(target: comments.Target, page: int, anchor: str) -> str:
    query = f"?{urlencode({'comments_page': page})}" if page > 1 else ""
    return f"{target.url.split('#')[0]}{query}#{anchor}"


def _answer(request, target, page, *, comment_id=None, done="", refused=None):
    """The section's new HTML for the script, or a redirect back to the page."""
    if _wants_fragment(request):
        if refused is not None:
            return HttpResponse(
                refused.message, status=refused.status, content_type="text/plain; charset=utf-8"
            )
        if target.type == CommentTarget.MODEL:  # loaded before the write moved it
            target.obj.refresh_from_db(fields=["comment_count"])
        context = section_context(request, target, page, csrf_token=get_token(request), notice=done)
        response = HttpResponse(render_to_string("community/comments/_section.html", context))
        if comment_id:
            response["X-Comment-Id"] = str(comment_id)
        return response
    if refused is not None:
        messages.error(request, refused.message)
    elif done:
        messages.success(request, done)
    return redirect(_page_url(target, page, f"comment-{comment_id}" if comment_id else "comments"))


def _login_needed(request, target):
    if _wants_fragment(request):
        return HttpResponse(_("Log in to comment."), status=401, content_type="text/plain; charset=utf-8")
    return redirect(f"/accounts/login/?{urlencode({'next': _page_url(target, 1, 'comments')})}")


@require_GET
def section(request, target_type: str, target_id: int):
    """The section's HTML alone, for the script's links (older and newer comments, Reply, Edit, Cancel)."""
    target = _section_target(request.user, target_type, target_id)
    page = _page(request.GET.get("page"))
    context = section_context(request, target, page, csrf_token=get_token(request))
    return HttpResponse(render_to_string("community/comments/_section.html", context))


def _reply_target(user, target: comments.Target, parent_id: int | None) -> comments.Target:
    """The model page lists its versions' comments too; a reply there goes to the version."""
    if parent_id is None or target.type != CommentTarget.MODEL:
        return target
    parent = (
        Comment.objects.filter(id=parent_id, model_id=target.id).only("target_type", "version_id").first()
    )
    if parent is not None and parent.target_type == CommentTarget.VERSION:
        return comments.find_target(user, CommentTarget.VERSION, parent.version_id)
    return target


@require_POST
def post(request, target_type: str, target_id: int):
    target = comments.find_target(request.user, target_type, target_id)
    section_target = _section_target(
        request.user,
        CommentTarget.IMAGE if target.type == CommentTarget.IMAGE else CommentTarget.MODEL,
        target.model.id if target.model else target.id,
    )
    page = _page(request.POST.get("page"))
    if not request.user.is_authenticated:
        return _login_needed(request, section_target)
    parent_id = request.POST.get("parent_id") or None
    if parent_id is not None and not parent_id.isdigit():
        return _answer(
            request, section_target, page, refused=comments.CommentRefused(400, _("No such comment."))
        )
    parent_id = int(parent_id) if parent_id else None
    try:
        comment = comments.post_comment(
            request.user,
            _reply_target(request.user, target, parent_id),
            request.POST.get("body", ""),
            parent_id=parent_id,
            ip=abuse.client_ip(request),
        )
    except comments.CommentRefused as refused:
        return _answer(request, section_target, page, refused=refused)
    if parent_id is None:
        page = 1  # a new thread is the newest
    return _answer(request, section_target, page, comment_id=comment.id, done=_("Your comment is posted."))


def _found(request, comment_id: int):
    """The comment (404 unless the viewer sees it), its section's target and the section's page."""
    comment, _own_target = comments.visible_comment(request.user, comment_id)
    return comment, _section_of(request.user, comment), _page(request.POST.get("page"))


@require_POST
def edit(request, comment_id: int):
    comment, target, page = _found(request, comment_id)
    if not request.user.is_authenticated:
        return _login_needed(request, target)
    try:
        comments.edit_comment(
            request.user, comment, request.POST.get("body", ""), ip=abuse.client_ip(request)
        )
    except comments.CommentRefused as refused:
        return _answer(request, target, page, refused=refused)
    return _answer(request, target, page, comment_id=comment.id, done=_("Your comment is updated."))


@require_POST
def delete(request, comment_id: int):
    comment, target, page = _found(request, comment_id)
    if not request.user.is_authenticated:
        return _login_needed(request, target)
    try:
        comments.delete_comment(request.user, comment)
    except comments.CommentRefused as refused:
        return _answer(request, target, page, refused=refused)
    return _answer(request, target, page, done=_("Your comment is deleted."))


@require_POST
def pin(request, comment_id: int):
    comment, target, page = _found(request, comment_id)
    if not request.user.is_authenticated:
        return _login_needed(request, target)
    try:
        comments.set_pinned(
            request.user,
            comment,
            comments.target_of(request.user, comment),
            request.POST.get("pinned") == "1",
        )
    except comments.CommentRefused as refused:
        return _answer(request, target, page, refused=refused)
    return _answer(request, target, 1, comment_id=comment.id)


@require_POST
def react(request, comment_id: int):
    comment, target, page = _found(request, comment_id)
    if not request.user.is_authenticated:
        return _login_needed(request, target)
    try:
        comments.toggle_reaction(request.user, comment, request.POST.get("kind", ""))
    except comments.CommentRefused as refused:
        return _answer(request, target, page, refused=refused)
    return _answer(request, target, page, comment_id=comment.id)
