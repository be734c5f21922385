"""Image pages, posts and the image files (docs/images.md). Thin: parse, call images.py, render."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from models_app import downloads, preferences, storage
from models_app.download_views import MAX_ID, blob_response, json_response, public_user
from models_app.forms import NsfwLevelField
from models_app.selectors import can_moderate

from . import image_privacy, images, workflows
from .models import Image, Post

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
VIDEO_TYPES = {"video/mp4", "video/webm"}  # example clips (docs/video.md)
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
# The settings the panel shows first, in this order; any other key of `meta` follows.
MAIN_SETTINGS = ("steps", "sampler", "Schedule type", "cfgScale", "seed", "Size", "Model", "clipSkip")
NOT_SETTINGS = {"prompt", "negativePrompt", "hashes", "resources", "civitaiResources", "comfy"}


def _visible(request, image_id: int) -> tuple[Image | None, bool]:
    """The image when the caller may see it, and whether anyone may (so it may be cached)."""
    if image_id > MAX_ID:
        return None, False
    user = public_user(request)
    image = images.visible_images(user).select_related("blob").filter(id=image_id).first()
    if image is None:
        return None, False
    return image, images.is_public(image)


def _image_not_found():
    return json_response({"error": "Image not found"}, 404, Cache_Control="no-store")


@require_http_methods(["GET", "HEAD"])
def serve_image(request, image_id: int, name: str):
    """The image at its stable address: the APIs hand these links to tools, which keep them (a
    signed /files/ link expires). The bytes are the served copy, without GPS or camera facts; the
    type is the one the worker checked, and nosniff holds it. An attachment: the worker checked these
    bytes but did not re-encode them, so they never open as a page of the hub's origin; <img> and
    <video> ignore the header and show them (docs/security.md#user-files)."""
    image, public = _visible(request, image_id)
    if image is None:
        return _image_not_found()
    headers = {
        "Content-Type": image.mime_type
        if image.mime_type in IMAGE_TYPES | VIDEO_TYPES
        else "application/octet-stream",
        "Content-Disposition": downloads.content_disposition(image.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=86400" if public else "private, no-store",
    }
    if public:
        headers["Access-Control-Allow-Origin"] = "*"
    if not image.stripped:  # moved by migration 0002, its served copy not stored yet: strip it now
        with storage.model_storage().open(image.blob.storage_key, "rb") as f:
            body = image_privacy.strip_private_metadata(f.read(images.MAX_SERVED_READ))
        response = HttpResponse(body if request.method == "GET" else b"", status=200)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            response[name] = value
        return response
    return blob_response(request, image.blob, headers)


@require_http_methods(["GET", "HEAD"])
def serve_thumbnail(request, image_id: int):
    """The small WebP the worker made of an image (cards, galleries); same rules as serve_image."""
    image, public = _visible(request, image_id)
    key = image.thumbnail_key if image else ""
    if not key or not storage.model_storage().exists(key):
        return _image_not_found()
    with storage.model_storage().open(key, "rb") as f:
        body = f.read(THUMBNAIL_MAX_BYTES + 1)
    if len(body) > THUMBNAIL_MAX_BYTES:  # the worker makes small ones; anything else is not one of them
        return _image_not_found()
    response = HttpResponse(body if request.method == "GET" else b"", content_type="image/webp")
    response["Content-Length"] = str(len(body))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400" if public else "private, no-store"
    return response


def image_path(image: Image) -> str:
    """The stable URL of an image's bytes (serve_image)."""
    return reverse("serve_image", kwargs={"image_id": image.id, "name": downloads.clean_filename(image.name)})


def settings_rows(meta: dict | None) -> list[tuple[str, str]]:
    """(name, value) of every setting in `meta`, the usual ones first."""
    if not isinstance(meta, dict):
        return []
    keys = [k for k in MAIN_SETTINGS if k in meta] + [
        k for k in meta if k not in MAIN_SETTINGS and k not in NOT_SETTINGS
    ]
    return [(k, str(meta[k])) for k in keys if meta[k] not in (None, "")]


def image_detail(request, image_id: int):
    """The image page: the picture, its post, and the metadata panel (prompt, negative prompt and
    each setting with a copy button; the resources it used, linked or "not on this hub")."""
    image, _ = _visible(request, image_id)
    if image is None:
        raise Http404(gettext("No such image"))
    meta = image.meta if isinstance(image.meta, dict) else None
    resources = images.image_resources(image)
    # Above the viewer's levels: blurred behind a reveal control (a direct link, as the model page warns).
    own = request.user.is_authenticated and (image.owner_id == request.user.id or can_moderate(request.user))
    blurred = not own and not preferences.browsing(request).shows(image.nsfw_level)
    return render(
        request,
        "resources/images/image_detail.html",
        {
            "image": image,
            "blurred": blurred,
            "image_url": image_path(image),
            "meta": meta,
            "settings": settings_rows(meta),
            "resources": resources,
            # "Open as workflow": the same graph a Workflows model page draws (resources/workflows.py).
            "graph": workflows.graph_context(image.workflow or image.prompt_graph)
            if (image.workflow or image.prompt_graph)
            else None,
            "versions": image.version_links.select_related("version__model").filter(
                version__status="published"
            ),
        },
    )


def post_detail(request, post_id: int):
    post = get_object_or_404(Post.objects.select_related("owner"), id=post_id)
    if post.owner_id == request.user.id:  # the author also sees images still processing or refused
        shown = list(post.images.all())
    else:
        shown = list(images.visible_images(public_user(request)).filter(post=post))
    if not shown and post.owner_id != request.user.id:
        raise Http404(gettext("No such post"))
    return render(request, "resources/images/post_detail.html", {"post": post, "images": shown})


class PostForm(forms.Form):
    title = forms.CharField(
        required=False, max_length=200, label=gettext_lazy("Title"), help_text=gettext_lazy("Optional.")
    )
    versions = forms.CharField(
        required=False,
        label=gettext_lazy("Made with (version ids)"),
        help_text=gettext_lazy(
            "Ids of the model versions you used, separated by commas; each one lists your images "
            "under “Images made with this model”."
        ),
    )
    nsfw_level = NsfwLevelField(
        help_text=gettext_lazy(
            "PG and PG-13 are safe for work; R, X and XXX are shown only to people who chose them."
        )
    )

    def clean_versions(self):
        raw = self.cleaned_data["versions"].replace(" ", "")
        try:
            return [int(v) for v in raw.split(",") if v][:20]
        except ValueError:
            raise ValidationError(gettext("Version ids are numbers separated by commas.")) from None


@login_required
def create_post(request):
    """Post images: the files are stored and processed by the worker like any upload; the post page
    shows each one when it is ready, or why it was refused."""
    form = PostForm(
        request.POST if request.method == "POST" else None,
        initial={"versions": request.GET.get("version", "")},
    )
    files = request.FILES.getlist("images") if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        if not files:
            form.add_error(None, gettext("Choose at least one image."))
        elif len(files) > images.MAX_IMAGES_PER_POST:
            form.add_error(
                None,
                gettext("A post holds at most %(count)d images.") % {"count": images.MAX_IMAGES_PER_POST},
            )
        else:
            try:
                with transaction.atomic():
                    post = images.create_post(
                        owner=request.user, title=form.cleaned_data["title"],
                        version_ids=form.cleaned_data["versions"],
                    )  # fmt: skip
                    for upload in files:
                        images.add_image(owner=request.user, name=upload.name, content=upload, post=post,
                                         nsfw_level=form.cleaned_data["nsfw_level"])  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
            else:
                return redirect("resources:post_detail", post_id=post.id)
    return render(request, "resources/images/create_post.html", {"form": form})
