"""Images with their generation settings, grouped in posts (docs/images.md)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from models_app.models import ContentBlob, ModelFile, ModelVersion

MAX_POST_TITLE_LENGTH = 200


class Post(models.Model):
    """Images shared together, as on CivitAI; the title is optional."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=MAX_POST_TITLE_LENGTH, blank=True)
    # Set on the post that holds a creator's example images of one version (CivitAI's modelVersionId).
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="example_posts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.title or f"Post {self.id}"


class ImageStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Waiting for processing")
    PROCESSING = "processing", gettext_lazy("Processing")
    READY = "ready", gettext_lazy("Ready")
    REJECTED = "rejected", gettext_lazy("Rejected")
    # Set by moderators (resources.images.set_image_status): seen only by its owner, with the reason in
    # status_message, and by moderators.
    HIDDEN = "hidden", gettext_lazy("Hidden by moderators")
    REMOVED = "removed", gettext_lazy("Removed by moderators")


MODERATED_IMAGE_STATUSES = (ImageStatus.HIDDEN, ImageStatus.REMOVED)


class Image(models.Model):
    """One image. Its id is the one of its stable address /images/<id>/<name>: example images kept the
    id of the ModelFile they were before (migration 0002), so links tools kept still work.

    `blob` is what is served: a copy without GPS or camera make/model when the upload had them
    (docs/images.md#what-is-served). Example images uploaded with a version's files keep their
    ModelFile (`source_file`), the record of the upload."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="images")
    source_file = models.OneToOneField(
        ModelFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    blob = models.ForeignKey(ContentBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    upload_key = models.CharField(max_length=255, blank=True)  # until processing finishes
    name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    blurhash = models.CharField(max_length=100, blank=True)
    mime_type = models.CharField(max_length=40, blank=True)
    thumbnail_key = models.CharField(max_length=255, blank=True)
    nsfw = models.BooleanField(default=False)
    # What the worker found (docs/moderation.md#automatic-suggestions): the classifier's NSFW score and
    # the level it suggests (null until rated, or when the bytes could not be rated), and the image's
    # perceptual hash (imagehash's 64-bit pHash, 16 hex digits) for the blocked-image list.
    nsfw_score = models.FloatField(null=True, blank=True)
    suggested_nsfw_level = models.PositiveSmallIntegerField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True, db_default="", db_index=True)
    meta = models.JSONField(null=True, blank=True, help_text="Generation settings, CivitAI's `meta` keys.")
    workflow = models.TextField(null=True, blank=True, help_text="The ComfyUI workflow text it carries.")
    prompt_graph = models.TextField(null=True, blank=True, help_text="The ComfyUI API graph it carries.")
    status = models.CharField(max_length=16, choices=ImageStatus.choices, default=ImageStatus.PENDING)
    status_message = models.TextField(blank=True)
    # False only for example images moved by migration 0002 until the sweep has stored their served
    # copy (tasks.refresh_moved_image); meanwhile serve_image strips them on the way out
    # (docs/images.md#what-is-served).
    stripped = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    versions = models.ManyToManyField(ModelVersion, through="ImageVersion", related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "-id"], name="image_status_newest")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("resources:image_detail", kwargs={"image_id": self.id})

    @property
    def is_ready(self) -> bool:
        return self.status == ImageStatus.READY and self.blob_id is not None


class ImageVersion(models.Model):
    """A version an image is linked to: the creator's example of it, or a version it was made with."""

    class Role(models.TextChoices):
        EXAMPLE = "example", gettext_lazy("Example image of the version")
        USED = "used", gettext_lazy("Made with the version")

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="version_links")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="image_links")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USED)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "version"], name="one_link_per_image_version")
        ]
        indexes = [models.Index(fields=["version", "role"])]

    def __str__(self):
        return f"{self.image_id} {self.role} {self.version_id}"


class ImageResource(models.Model):
    """A resource the image names as used (checkpoint, LoRA, embedding, VAE...), and the hub version it
    resolved to by hash (docs/images.md#resources), or none."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(max_length=32)
    name = models.CharField(max_length=255, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    weight = models.FloatField(null=True, blank=True)
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_by = models.CharField(max_length=32, blank=True)  # "AutoV2", "SHA256[:12] or AutoV3[:12]"
    resolved_sha256 = models.CharField(max_length=64, blank=True)  # of the hub file that matched

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} {self.name}"
