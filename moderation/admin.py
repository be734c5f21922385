from django.contrib import admin

from billing.admin import ReadOnlyAdmin

from .models import Appeal, BlockedImage, BlockedTerm, ModerationAction, Report, UserSanction


class BlockListAdmin(admin.ModelAdmin):
    """A block list's entries remember the moderator who added them."""

    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BlockedTerm)
class BlockedTermAdmin(BlockListAdmin):
    list_display = ("term", "note", "created_by", "created_at")
    search_fields = ("term", "note")


@admin.register(BlockedImage)
class BlockedImageAdmin(BlockListAdmin):
    list_display = ("phash", "note", "created_by", "created_at")
    search_fields = ("phash", "note")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["id", "target_type", "target_id", "reason", "source", "reporter", "status", "created_at"]
    list_filter = ["status", "reason", "source", "target_type"]
    raw_id_fields = ["reporter"]


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """The audit log is read-only here, as everywhere."""

    list_display = ["id", "created_at", "moderator", "action", "target_type", "target_id", "owner"]
    list_filter = ["action", "target_type"]


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "appellant", "status", "assigned_to", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["appellant", "assigned_to", "decided_by"]


@admin.register(UserSanction)
class UserSanctionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "until", "lifted_at", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user"]
