"""What a report or a decision points at: one model, version, file, image, comment or user, found by
type and id, with what the queue shows of it (name, text, link, owner, status)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext

from community import comments as community_comments
from community.models import Comment
from models_app import selectors
from models_app.models import AIModel, ModelFile, ModelVersion
from resources import images as resource_images
from resources.models import Image

from .models import TargetType


@dataclass
class Target:
    type: str
    id: int
    obj: object
    owner: object  # the user whose content it is (the user themselves for a user target)
    name: str
    text: str  # the content's own words: description, comment body
    url: str
    status: str

    @property
    def label(self) -> str:
        return TargetType(self.type).label

    @property
    def status_label(self) -> str:
        """The status in words, in the visitor's language."""
        if self.type == TargetType.USER:
            return gettext("Active") if self.status == "active" else gettext("Banned")
        return str(self.obj.get_status_display())


def _load(target_type: str, target_id: int):
    """The row, whatever its status, or None."""
    if target_type == TargetType.MODEL:
        return AIModel.objects.select_related("owner").filter(id=target_id).first()
    if target_type == TargetType.VERSION:
        return ModelVersion.objects.select_related("model__owner", "base_model").filter(id=target_id).first()
    if target_type == TargetType.FILE:
        return ModelFile.objects.select_related("version__model__owner").filter(id=target_id).first()
    if target_type == TargetType.IMAGE:
        return Image.objects.select_related("owner").filter(id=target_id).first()
    if target_type == TargetType.COMMENT:
        return Comment.objects.select_related("user").filter(id=target_id).first()
    if target_type == TargetType.USER:
        return get_user_model().objects.filter(id=target_id).first()
    return None


def _describe(target_type: str, row) -> Target:
    if target_type == TargetType.MODEL:
        return Target(
            target_type, row.id, row, row.owner, row.name, row.description, row.get_absolute_url(), row.status
        )
    if target_type == TargetType.VERSION:
        model = row.model
        return Target(
            target_type, row.id, row, model.owner, f"{model.name} {row.name}", row.description,
            model.get_absolute_url(), row.status,
        )  # fmt: skip
    if target_type == TargetType.FILE:
        model = row.version.model
        return Target(
            target_type, row.id, row, model.owner, row.name, row.scan_message,
            model.get_absolute_url(), row.status,
        )  # fmt: skip
    if target_type == TargetType.IMAGE:
        return Target(target_type, row.id, row, row.owner, row.name, "", row.get_absolute_url(), row.status)
    if target_type == TargetType.COMMENT:
        return Target(
            target_type, row.id, row, row.user, row.body[:80] or f"#{row.id}", row.body,
            _comment_url(row), row.status,
        )  # fmt: skip
    status = "active" if row.is_active else "banned"
    return Target(
        target_type, row.id, row, row, row.username, "",
        reverse("community:user_profile", args=[row.username]), status,
    )  # fmt: skip


def _comment_url(comment: Comment) -> str:
    """The page the comment shows on, at the comment (a version's comments show on its model's page)."""
    if comment.image_id:
        page = reverse("resources:image_detail", kwargs={"image_id": comment.image_id})
    else:
        page = reverse("models_app:model_detail", kwargs={"pk": comment.model_id})
    return f"{page}#comment-{comment.id}"


def find(target_type: str, target_id: int) -> Target | None:
    """Any target, whatever its status (moderators see everything)."""
    row = _load(target_type, target_id)
    return None if row is None else _describe(target_type, row)


def visible_to(user, target_type: str, target_id: int) -> Target | None:
    """The target when `user` may see it (what they may report), else None."""
    try:
        if target_type == TargetType.MODEL:
            seen = selectors.visible_models(user).filter(id=target_id).exists()
        elif target_type == TargetType.VERSION:
            seen = selectors.visible_version(user, target_id) is not None
        elif target_type == TargetType.FILE:
            model_file = ModelFile.objects.select_related("version").filter(id=target_id).first()
            seen = model_file is not None and selectors.file_is_visible(user, model_file)
        elif target_type == TargetType.IMAGE:
            seen = resource_images.visible_images(user).filter(id=target_id).exists()
        elif target_type == TargetType.COMMENT:
            community_comments.visible_comment(user, target_id)
            seen = True
        elif target_type == TargetType.USER:
            seen = get_user_model().objects.filter(id=target_id, is_active=True).exists()
        else:
            seen = False
    except Http404:
        seen = False
    return find(target_type, target_id) if seen else None
