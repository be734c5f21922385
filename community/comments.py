"""Comments on models, versions and images, threaded replies, reactions and pins (docs/comments.md).

One service for the pages (views_comments.py, the comments_section template tag) and the API
(comments_api.py). A comment's visibility follows its target's: a comment on a model or version
the viewer can't see (a draft, mature content hidden to them) is a 404, like the target itself.

The model's comment_count (cards, the model page, CivitAI's commentCount) counts the visible,
not deleted comments on the model and its versions whose thread above them is visible. Every write
locks the thread's top-level comment, then moves the count by the difference between the thread's
counted comments before and after, with F() in the same transaction, so it stays exact under
concurrent writes (docs/comments.md#counts)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from models_app import sanctions, selectors
from models_app.compiled import Built
from models_app.dates import iso_z
from models_app.models import AIModel, ModelVersion
from models_app.text import render_markdown
from resources.images import visible_images
from resources.models import Image

from . import abuse, mentions, notifications
from .models import (
    MAX_COMMENT_DEPTH,
    MAX_COMMENT_LENGTH,
    Comment,
    CommentStatus,
    CommentTarget,
    Reaction,
    ReactionKind,
)
from .refusals import Refused, check_text

THREADS_PER_PAGE = 20
MAX_REPLIES_PER_PAGE = 500
MAX_PAGE = 10_000


class CommentRefused(Refused):
    """A comments write refused: status and sentence (community/refusals.py)."""


@dataclass
class Target:
    """What a comment is about: a model, a version (with its model) or an image."""

    type: str
    obj: AIModel | ModelVersion | Image
    model: AIModel | None = None
    version_ids: list[int] | None = field(default=None)  # model page: the versions the viewer sees

    @property
    def id(self) -> int:
        return self.obj.id

    @property
    def owner_id(self) -> int:
        return self.model.owner_id if self.model is not None else self.obj.owner_id

    @property
    def url(self) -> str:
        if self.type == CommentTarget.IMAGE:
            return self.obj.get_absolute_url()
        if self.type == CommentTarget.VERSION:
            return f"{self.model.get_absolute_url()}#version-{self.obj.id}"
        return self.model.get_absolute_url()

    def filter(self) -> Q:
        """The comments listed for this target."""
        if self.type == CommentTarget.IMAGE:
            return Q(image_id=self.obj.id)
        if self.type == CommentTarget.VERSION:
            return Q(version_id=self.obj.id)
        if self.version_ids is not None:  # the model page: the model's and its visible versions' comments
            return Q(model_id=self.obj.id) & (Q(version__isnull=True) | Q(version_id__in=self.version_ids))
        return Q(model_id=self.obj.id, target_type=CommentTarget.MODEL)

    def fields(self) -> dict:
        if self.type == CommentTarget.IMAGE:
            return {"target_type": self.type, "image": self.obj}
        if self.type == CommentTarget.VERSION:
            return {"target_type": self.type, "model": self.model, "version": self.obj}
        return {"target_type": self.type, "model": self.obj}


def find_target(user, target_type: str, target_id: int) -> Target:
    """The target if `user` may see it, else Http404 (a hidden thing is not confirmed to exist)."""
    if target_type == CommentTarget.IMAGE:
        image = visible_images(user).select_related("owner").filter(id=target_id).first()
        if image is None:
            raise Http404
        return Target(CommentTarget.IMAGE, image)
    if target_type == CommentTarget.VERSION:
        version = selectors.visible_version(user, target_id)
        if version is None:
            raise Http404
        return Target(CommentTarget.VERSION, version, model=version.model)
    if target_type == CommentTarget.MODEL:
        model = selectors.visible_models(user).filter(id=target_id).first()
        if model is None:
            raise Http404
        return Target(CommentTarget.MODEL, model, model=model)
    raise Http404


def model_page_target(user, model: AIModel, versions=None) -> Target:
    """The model page's target: the model's comments and those of the versions the page shows."""
    if versions is None:
        versions = selectors.visible_versions(user, model)
    return Target(CommentTarget.MODEL, model, model=model, version_ids=[v.id for v in versions])


def target_of(user, comment: Comment) -> Target:
    target_id = {"model": comment.model_id, "version": comment.version_id, "image": comment.image_id}
    return find_target(user, comment.target_type, target_id[comment.target_type])


def visible_comment(user, comment_id: int) -> tuple[Comment, Target]:
    """A comment `user` may see, with its target: not hidden, not in a hidden thread, not deleted,
    on something they see. Http404 otherwise."""
    comment = Comment.objects.select_related("user", "parent").filter(id=comment_id).first()
    if comment is None or comment.is_deleted or not _thread_visible(comment):
        raise Http404
    return comment, target_of(user, comment)


def _thread_visible(comment: Comment) -> bool:
    """The comment and every comment above it are visible (at most MAX_COMMENT_DEPTH steps)."""
    if comment.status != CommentStatus.VISIBLE:
        return False
    if comment.parent_id is None:
        return True
    rows = {
        id_: (status, parent_id)
        for id_, status, parent_id in Comment.objects.filter(
            Q(id=comment.root_id) | Q(root_id=comment.root_id)
        ).values_list("id", "status", "parent_id")
    }
    node = comment.parent_id
    while node is not None:
        status, parent_id = rows.get(node, (None, None))
        if status != CommentStatus.VISIBLE:
            return False
        node = parent_id
    return True


# --- counts


def _counted_ids(root_id: int) -> set[int]:
    """The comments of one thread that count: visible, not deleted, every comment above visible."""
    rows = list(
        Comment.objects.filter(Q(id=root_id) | Q(root_id=root_id))
        .order_by("depth", "id")
        .values_list("id", "parent_id", "status", "is_deleted")
    )
    shown: set[int] = set()  # visible, with a visible chain above
    counted: set[int] = set()
    for id_, parent_id, status, deleted in rows:  # parents come before their replies (depth order)
        if status == CommentStatus.VISIBLE and (parent_id is None or parent_id in shown):
            shown.add(id_)
            if not deleted:
                counted.add(id_)
    return counted


def _move_count(model_id: int | None, delta: int) -> None:
    if model_id is not None and delta:
        AIModel.objects.filter(id=model_id).update(comment_count=F("comment_count") + delta)


def _lock_thread(comment: Comment) -> int:
    """Locks the thread's top-level comment (every write to a thread takes this lock first); returns its id."""
    root_id = comment.root_id or comment.id
    Comment.objects.select_for_update().filter(id=root_id).first()
    return root_id


# --- writes


def _check_writer(user, ip: str | None) -> None:
    refusal = sanctions.write_refusal(user)  # muted or suspended by moderators
    if refusal:
        raise CommentRefused(403, refusal)
    if abuse.too_new_to_write(user, settings.COMMENT_MIN_ACCOUNT_AGE):
        raise CommentRefused(
            403, _("Confirm your email address first, or wait until your account is an hour old, to comment.")
        )
    if abuse.over_posting_limits(
        "comment-rate",
        user,
        ip,
        per_user=settings.COMMENT_RATE_LIMIT,
        per_ip=settings.COMMENT_IP_RATE_LIMIT,
    ):
        raise CommentRefused(429, _("Too many comments in a minute; try again shortly."))


def _rendered(body: str) -> tuple[str, str, list]:
    body = (body or "").strip()
    if not body:
        raise CommentRefused(400, _("Write something first: a comment can't be empty."))
    if len(body) > MAX_COMMENT_LENGTH:
        raise CommentRefused(
            400, _("A comment is at most %(limit)s characters.") % {"limit": f"{MAX_COMMENT_LENGTH:,}"}
        )
    check_text(CommentRefused, body=body)
    html, mentioned = mentions.link_mentions(render_markdown(body), body)
    return body, html, mentioned


def post_comment(
    user, target: Target, body: str, *, parent_id: int | None = None, ip: str | None = None
) -> Comment:
    """Creates a comment on `target`, or a reply to `parent_id` (a visible comment on the same target,
    at most MAX_COMMENT_DEPTH deep), renders its Markdown once, stores its mentions and adds it to the
    model's comment_count. Nothing is written when it is refused."""
    _check_writer(user, ip)
    body, html, mentioned = _rendered(body)
    with transaction.atomic():
        parent = None
        if parent_id is not None:
            parent = Comment.objects.filter(id=parent_id).first()
            if parent is not None:
                # Under the thread's lock, read it again: a delete may have removed it meanwhile.
                _lock_thread(parent)
                parent = Comment.objects.filter(id=parent_id).first()
            if parent is None or not _same_target(parent, target) or not _thread_visible(parent):
                raise CommentRefused(400, _("The comment you reply to is not on this page."))
            if parent.is_deleted:
                raise CommentRefused(400, _("That comment was deleted; reply to the thread instead."))
            if parent.depth >= MAX_COMMENT_DEPTH:
                raise CommentRefused(
                    400,
                    _(
                        "Replies nest at most %(depth)s levels deep; reply to an earlier comment in the thread."
                    )
                    % {"depth": MAX_COMMENT_DEPTH},
                )
        comment = Comment.objects.create(
            **target.fields(),
            user=user,
            parent=parent,
            root_id=(parent.root_id or parent.id) if parent else None,
            depth=parent.depth + 1 if parent else 0,
            body=body,
            body_html=html,
        )
        if mentioned:
            comment.mentions.set(mentioned)
        _move_count(comment.model_id, 1)
        _tell_people(comment, target, mentioned)
    return comment


def _tell_people(comment: Comment, target: Target, mentioned: list) -> None:
    """Notifies the replied-to author, the mentioned people and the target's owner, each once
    (docs/notifications.md#comments); after an edit only people newly mentioned hear of it."""
    if target.type == CommentTarget.IMAGE:
        image = target.obj
        owner, name, url = image.owner, image.name, image.get_absolute_url()
        model = version = None

        def visible(person) -> bool:
            return visible_images(person).filter(id=image.id).exists()
    else:
        model = target.model
        version = target.obj if target.type == CommentTarget.VERSION else None
        owner, url, visible = model.owner, model.get_absolute_url(), None
        name = f"{model.name} {version.name}" if version else model.name
    notifications.notify_comment(
        comment_id=comment.id,
        author=comment.user,
        text=comment.body,
        url=f"{url}#comment-{comment.id}",
        target_name=name,
        mentioned=mentioned,
        target_owner=owner,
        parent_author=comment.parent.user if comment.parent_id and not comment.parent.is_deleted else None,
        model=model,
        version=version,
        visible=visible,
    )


def _same_target(comment: Comment, target: Target) -> bool:
    if comment.target_type != target.type:
        return False
    own = {"model": comment.model_id, "version": comment.version_id, "image": comment.image_id}
    return own[target.type] == target.id


def _own(user, comment: Comment) -> None:
    if comment.user_id != user.id:
        raise CommentRefused(403, _("Only the comment's author can change it."))


def edit_comment(user, comment: Comment, body: str, *, ip: str | None = None) -> Comment:
    """Replaces the author's comment text (and its mentions); the count does not move."""
    _own(user, comment)
    _check_writer(user, ip)
    body, html, mentioned = _rendered(body)
    with transaction.atomic():
        _lock_thread(comment)
        comment = Comment.objects.get(id=comment.id)
        if comment.is_deleted:
            raise Http404
        comment.body, comment.body_html, comment.updated_at = body, html, timezone.now()
        comment.save(update_fields=["body", "body_html", "updated_at"])
        comment.mentions.set(mentioned)
        _tell_people(comment, target_of(user, comment), mentioned)
    return comment


def delete_comment(user, comment: Comment) -> bool:
    """Deletes the author's comment. With replies it stays as "[deleted]" (text, mentions, reactions
    and pin gone) so the thread still reads; without, the row goes, and so does every "[deleted]"
    comment above it left without replies. Returns whether the row was removed."""
    _own(user, comment)
    with transaction.atomic():
        root_id = _lock_thread(comment)
        before = _counted_ids(root_id)
        comment = Comment.objects.filter(id=comment.id).first()
        if comment is None or comment.is_deleted:
            raise Http404
        comment_id = comment.id  # delete() below clears comment.id
        removed = not Comment.objects.filter(parent=comment).exists()
        if removed:
            parent_id = comment.parent_id
            comment.delete()
            while parent_id is not None:
                parent = Comment.objects.filter(id=parent_id, is_deleted=True).first()
                if parent is None or Comment.objects.filter(parent=parent).exists():
                    break
                parent_id = parent.parent_id
                parent.delete()
        else:
            comment.is_deleted, comment.body, comment.body_html, comment.pinned = True, "", "", False
            comment.like_count = comment.heart_count = comment.laugh_count = comment.cry_count = 0
            comment.updated_at = timezone.now()
            comment.save()
            comment.mentions.clear()
            comment.reactions.all().delete()
        after = _counted_ids(root_id) if Comment.objects.filter(id=root_id).exists() else set()
        _move_count(comment.model_id, len(after) - len(before))
        notifications.withdraw_comment(comment_id)
    return removed


def set_comment_status(comment: Comment, status: str) -> None:
    """Hides a comment with its replies, or shows them again (moderation, a later issue), moving
    them out of or back into the model's comment_count in the same transaction."""
    with transaction.atomic():
        root_id = _lock_thread(comment)
        before = _counted_ids(root_id)
        Comment.objects.filter(id=comment.id).update(status=status)
        _move_count(comment.model_id, len(_counted_ids(root_id)) - len(before))
        if status == CommentStatus.HIDDEN:
            Comment.objects.filter(id=comment.id).update(pinned=False)
        # Its notifications (and its replies', hidden with it) go, or come back when shown again.
        hidden = status == CommentStatus.HIDDEN
        subtree, level = [], [comment.id]
        while level:  # at most MAX_COMMENT_DEPTH + 1 levels
            subtree += level
            level = list(Comment.objects.filter(parent_id__in=level).values_list("id", flat=True))
        notifications.withdraw(*(f"comment:{comment_id}" for comment_id in subtree), hidden=hidden)


def set_pinned(user, comment: Comment, target: Target, pinned: bool) -> None:
    """The target's creator pins one top-level comment (it shows first), replacing any other pin of
    the same target, or unpins it."""
    if target.owner_id != user.id:
        raise CommentRefused(403, _("Only the creator can pin a comment here."))
    if comment.parent_id is not None:
        raise CommentRefused(400, _("Only a top-level comment can be pinned."))
    with transaction.atomic():
        if pinned:
            own = {"model": "model_id", "version": "version_id", "image": "image_id"}[comment.target_type]
            Comment.objects.filter(
                target_type=comment.target_type, pinned=True, **{own: getattr(comment, own)}
            ).exclude(id=comment.id).update(pinned=False)
        Comment.objects.filter(id=comment.id).update(pinned=pinned)


# --- reactions


def _check_reactor(user) -> None:
    if abuse.too_new_to_write(user, settings.COMMENT_MIN_ACCOUNT_AGE):
        raise CommentRefused(
            403, _("Confirm your email address first, or wait until your account is an hour old, to react.")
        )
    if abuse.over_posting_limits(
        "reaction-rate", user, None, per_user=settings.REACTION_RATE_LIMIT, per_ip=0
    ):
        raise CommentRefused(429, _("Too many reactions in a minute; try again shortly."))


def _check_kind(kind: str) -> None:
    if kind not in ReactionKind.values:
        raise CommentRefused(
            400, _("kind must be one of: %(kinds)s.") % {"kinds": ", ".join(ReactionKind.values)}
        )


def add_reaction(user, comment: Comment, kind: str) -> bool:
    """Adds `user`'s reaction of `kind`; False when it was already there (nothing changes)."""
    _check_kind(kind)
    _check_reactor(user)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Reaction.objects.create(user=user, comment=comment, kind=kind)
        except IntegrityError:
            return False
        Comment.objects.filter(id=comment.id).update(**{f"{kind}_count": F(f"{kind}_count") + 1})
    return True


def remove_reaction(user, comment: Comment, kind: str) -> bool:
    """Removes `user`'s reaction of `kind`; False when there was none."""
    _check_kind(kind)
    with transaction.atomic():
        deleted, _rows = Reaction.objects.filter(user=user, comment=comment, kind=kind).delete()
        if deleted:
            Comment.objects.filter(id=comment.id).update(**{f"{kind}_count": F(f"{kind}_count") - 1})
    return bool(deleted)


def toggle_reaction(user, comment: Comment, kind: str) -> bool:
    """The page's reaction buttons: adds the reaction, or removes it when it was there. True when added."""
    _check_kind(kind)
    if Reaction.objects.filter(user=user, comment=comment, kind=kind).exists():
        remove_reaction(user, comment, kind)
        return False
    return add_reaction(user, comment, kind)


# --- reads


@dataclass
class Node:
    comment: Comment
    children: list["Node"] = field(default_factory=list)
    mine: set[str] = field(default_factory=set)  # the viewer's reactions

    def walk(self):
        """The replies below, depth first, in reading order."""
        for child in self.children:
            yield child
            yield from child.walk()


def threads(target: Target, *, page: int = 1, per_page: int = THREADS_PER_PAGE, viewer=None):
    """One page of top-level threads (pinned first, then newest first) with all their shown replies
    (oldest first), as Nodes; and whether there are older threads. Three queries whatever the number
    of comments: the top-level ones, their replies, the viewer's reactions."""
    base = Comment.objects.filter(target.filter())
    live_reply = Comment.objects.filter(root=OuterRef("pk"), status=CommentStatus.VISIBLE, is_deleted=False)
    tops = list(
        base.filter(root__isnull=True, status=CommentStatus.VISIBLE)
        .filter(Q(is_deleted=False) | Exists(live_reply))
        .select_related("user", "version")
        .order_by("-pinned", "-created_at", "-id")[(page - 1) * per_page : page * per_page + 1]
    )
    has_next = len(tops) > per_page
    tops = tops[:per_page]
    nodes = {c.id: Node(c) for c in tops}
    if tops:
        # A reply's id is above its parent's, so parents come first. Capped: a page never renders
        # more than MAX_REPLIES_PER_PAGE replies, however long a thread grew (the oldest are kept).
        replies = (
            Comment.objects.filter(root_id__in=list(nodes), status=CommentStatus.VISIBLE)
            .select_related("user", "version")
            .order_by("id")[:MAX_REPLIES_PER_PAGE]
        )
        for reply in replies:
            parent = nodes.get(reply.parent_id)
            if parent is not None:  # under a hidden comment: not shown
                nodes[reply.id] = Node(reply)
                parent.children.append(nodes[reply.id])
        for node in nodes.values():
            node.children.sort(key=lambda n: (n.comment.created_at, n.comment.id))
    roots = [nodes[c.id] for c in tops]
    roots = [n for n in roots if _prune(n)]
    if viewer is not None and viewer.is_authenticated and nodes:
        for comment_id, kind in Reaction.objects.filter(user=viewer, comment_id__in=list(nodes)).values_list(
            "comment_id", "kind"
        ):
            nodes[comment_id].mine.add(kind)
    return roots, has_next


def _prune(node: Node) -> bool:
    """Drops "[deleted]" comments left with no shown reply; True when `node` stays."""
    node.children = [child for child in node.children if _prune(child)]
    return not node.comment.is_deleted or bool(node.children)


def visible_count(target: Target) -> int:
    """Comments counted for the target as comment_count counts them (visible, not deleted, nothing
    hidden above); the model page reads the model's comment_count instead."""
    return counted_comments(target.filter())


def counted_comments(where: Q) -> int:
    """How many comments matching `where` count: visible, not deleted, nothing hidden above."""
    hidden_above = Q()
    for depth in range(1, MAX_COMMENT_DEPTH + 1):
        hidden_above |= Q(**{"__".join(["parent"] * depth) + "__status": CommentStatus.HIDDEN})
    return (
        Comment.objects.filter(where, status=CommentStatus.VISIBLE, is_deleted=False)
        .exclude(hidden_above)
        .count()
    )


def comment_json(comment: Comment, mine: set[str] | None = None) -> dict:
    target_id = {"model": comment.model_id, "version": comment.version_id, "image": comment.image_id}
    deleted = comment.is_deleted
    return {
        "id": comment.id,
        "target_type": comment.target_type,
        "target_id": target_id[comment.target_type],
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "user": None if deleted else comment.user.username,
        "body": comment.body,
        "body_html": comment.body_html,
        "deleted": deleted,
        "pinned": comment.pinned,
        "edited": comment.edited and not deleted,
        "reactions": {kind: getattr(comment, f"{kind}_count") for kind in ReactionKind.values},
        "my_reactions": sorted(mine or ()),
        "mentions": [] if deleted else sorted(u.username for u in comment.mentions.all()),
        "created_at": iso_z(comment.created_at),
        "updated_at": iso_z(comment.updated_at),
    }


def with_mentions(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    return comments.prefetch_related("mentions")


def model_commented(viewer, model):
    """Whether `viewer` commented on the model or one of its versions (a version's comments carry
    the model too) or reacted to such a comment, as an expression on its row: read by
    models_app.page_cache's own-state query: then the actions of their comments and of those they
    reacted to are drawn for them into a kept page (own_nodes)."""
    wrote = Exists(Comment.objects.filter(user_id=viewer.pk, model_id=model.pk))
    reacted = Exists(Reaction.objects.filter(user_id=viewer.pk, comment__model_id=model.pk))
    return ExpressionWrapper(Q(wrote) | Q(reacted), output_field=BooleanField())


def _own_comments_query(viewer_id: int, model_id: int):
    reacted = Reaction.objects.filter(comment_id=OuterRef("pk"), user_id=viewer_id)
    return (
        Comment.objects.filter(model_id=model_id)
        .filter(Q(user_id=viewer_id) | Q(Exists(reacted)))
        .select_related("user")  # the open reply form names the author
        .annotate(**{f"mine_{kind}": Exists(reacted.filter(kind=kind)) for kind in ReactionKind.values})
    )


# Asked on every kept model page a commenter opens: built once (models_app/compiled.py).
_own_comments = Built(_own_comments_query)


def own_nodes(viewer, model) -> dict[int, Node]:
    """The model's comments (its versions' too) that `viewer` wrote or reacted to, as Nodes with
    their reactions, in one query: what of a kept model page's comments is drawn for them."""
    return {
        c.id: Node(c, mine={kind for kind in ReactionKind.values if getattr(c, f"mine_{kind}")})
        for c in _own_comments.objects(viewer.pk, model.pk)
    }
