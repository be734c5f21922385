from django.contrib import admin

from .models import BlockedImage, BlockedTerm


@admin.register(BlockedTerm)
class BlockedTermAdmin(admin.ModelAdmin):
    list_display = ("term", "note", "created_by", "created_at")
    search_fields = ("term", "note")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BlockedImage)
class BlockedImageAdmin(admin.ModelAdmin):
    list_display = ("phash", "note", "created_by", "created_at")
    search_fields = ("phash", "note")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
