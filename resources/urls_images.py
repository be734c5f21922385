"""Images and posts: the pages, the files at their stable addresses, and the hub API (docs/images.md).
Included at the site root by hub/urls.py; the file routes keep their unnamespaced names."""

from django.urls import path

from . import image_views, images_api

app_name = "resources"

urlpatterns = [
    path("images/<int:image_id>", image_views.image_detail, name="image_detail"),
    path("posts/new", image_views.create_post, name="create_post"),
    path("posts/<int:post_id>", image_views.post_detail, name="post_detail"),
    path("api/hub/images", images_api.UploadImage.as_view(), name="api_images"),
    path("api/hub/images/<int:image_id>", images_api.ImageDetail.as_view(), name="api_image"),
]

# Unnamespaced, like the download URLs: tools keep these links (/images/<id>/<name>).
file_urlpatterns = [
    path("images/thumbnails/<int:image_id>.webp", image_views.serve_thumbnail, name="serve_thumbnail"),
    path("images/<int:image_id>/<path:name>", image_views.serve_image, name="serve_image"),
]
