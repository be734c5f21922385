from django.contrib import admin
from django.db import models

from . import cards
from .models import (
    AIModel,
    BaseModel,
    ContentBlob,
    EarlyAccessGrant,
    FundingGoal,
    ModelFile,
    ModelVersion,
    Tag,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(BaseModel)
class BaseModelAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active", "license_name"]
    list_editable = ["position", "is_active"]
    # A licence's address typed without a scheme is https (Django 6's default, asked for now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["name", "base_model", "status", "published_at"]
    extra = 0
    show_change_link = True


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "owner", "status", "nsfw_level", "published_at"]
    list_filter = ["type", "status", "nsfw_level"]
    search_fields = ["name", "owner__username", "tags__name"]
    autocomplete_fields = ["owner", "tags"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ModelVersionInline]

    def save_model(self, request, obj, form, change):
        obj.set_description(obj.description)  # renders the HTML that pages and APIs show
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        cards.refresh_card_fields(model_ids=[form.instance.pk])  # tags may have changed


class ModelFileInline(admin.TabularInline):
    model = ModelFile
    fields = ["name", "type", "format", "is_primary", "status", "size"]
    readonly_fields = ["status", "size"]
    extra = 0
    show_change_link = True


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "base_model", "status", "published_at"]
    list_filter = ["status", "base_model"]
    search_fields = ["name", "model__name"]
    raw_id_fields = ["model"]
    inlines = [ModelFileInline]

    def save_model(self, request, obj, form, change):
        obj.set_description(obj.description)  # renders the HTML that pages and APIs show
        super().save_model(request, obj, form, change)


@admin.register(ModelFile)
class ModelFileAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "type", "format", "status", "size"]
    list_filter = ["status", "format", "type"]
    search_fields = ["name", "blob__sha256"]
    raw_id_fields = ["version", "blob"]
    readonly_fields = ["upload_key", "processed_at"]


@admin.register(ContentBlob)
class ContentBlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256", "blake3", "autov3"]
    readonly_fields = ["sha256", "size", "storage_key", "autov1", "autov3", "crc32", "blake3", "created_at"]


@admin.register(EarlyAccessGrant)
class EarlyAccessGrantAdmin(admin.ModelAdmin):
    list_display = ["version", "user", "reason", "created_at"]
    raw_id_fields = ["version", "user"]
    search_fields = ["user__username", "version__model__name"]


@admin.register(FundingGoal)
class FundingGoalAdmin(admin.ModelAdmin):
    """Read-only: goals change through models_app/funding.py (its locks and rules); progress is the ledger."""

    list_display = ["title", "model", "status", "target", "currency", "deadline", "reached_at"]
    list_filter = ["status"]
    search_fields = ["title", "model__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
