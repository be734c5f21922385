from django.contrib import admin

from .models import Image, ImageResource, Post


class ImageResourceInline(admin.TabularInline):
    model = ImageResource
    extra = 0
    fields = ["kind", "name", "hash", "weight", "version", "matched_by"]
    raw_id_fields = ["version"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "owner", "post", "status", "nsfw_level", "created_at"]
    list_filter = ["status", "nsfw_level"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner", "post", "source_file", "blob"]
    readonly_fields = [
        "width",
        "height",
        "blurhash",
        "mime_type",
        "thumbnail_key",
        "meta",
        "workflow",
        "prompt_graph",
    ]
    inlines = [ImageResourceInline]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "owner", "version", "created_at"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner", "version"]
