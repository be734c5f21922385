"""Reads with rules: who may see which models."""

from django.db.models import Prefetch, Q, QuerySet

from .models import AIModel, FileStatus, ModelFile, ModelVersion, PublishStatus


def can_moderate(user) -> bool:
    return user.is_authenticated and user.has_perm("models_app.moderate_content")


def visible_models(user) -> QuerySet[AIModel]:
    """Published models for everyone; a creator also sees their own drafts, moderators see all."""
    models = AIModel.objects.select_related("owner")
    if can_moderate(user):
        return models
    published = Q(status=PublishStatus.PUBLISHED)
    if user.is_authenticated:
        return models.filter(published | Q(owner=user))
    return models.filter(published)


def visible_versions(user, model: AIModel) -> QuerySet[ModelVersion]:
    versions = model.versions.select_related("base_model").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.select_related("blob"))
    )
    if can_moderate(user) or (user.is_authenticated and model.owner_id == user.id):
        return versions
    return versions.filter(status=PublishStatus.PUBLISHED)


def visible_files(user, version: ModelVersion) -> list[ModelFile]:
    """A version's files as this viewer may see them: the creator and moderators see every file with
    its problems; everyone else only files that passed (or are still being) processed."""
    files = list(version.files.all())
    if can_moderate(user) or (user.is_authenticated and version.model.owner_id == user.id):
        return files
    shown = {FileStatus.READY, FileStatus.PENDING, FileStatus.PROCESSING}
    return [f for f in files if f.status in shown]


def latest_models(user, *, limit: int = 24) -> QuerySet[AIModel]:
    return (
        visible_models(user)
        .filter(status=PublishStatus.PUBLISHED)
        .prefetch_related(
            "tags", Prefetch("versions", queryset=ModelVersion.objects.select_related("base_model"))
        )
        .order_by("-published_at", "-id")[:limit]
    )


def search_models(user, query: str, *, limit: int = 48) -> QuerySet[AIModel]:
    """A plain name/description/tag match; ranked full-text search comes with the browse pages."""
    query = query.strip()[:200]
    if not query:
        return AIModel.objects.none()
    return (
        visible_models(user)
        .filter(status=PublishStatus.PUBLISHED)
        .filter(
            Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(tags__name__icontains=query)
            | Q(owner__username__iexact=query)
        )
        .distinct()
        .prefetch_related(
            "tags", Prefetch("versions", queryset=ModelVersion.objects.select_related("base_model"))
        )
        .order_by("-published_at", "-id")[:limit]
    )
