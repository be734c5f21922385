"""Profiles (docs/profiles.md): a user's bio, links and avatar, and the public page's figures.

The avatar is an image posted through resources' pipeline (resources/images.py add_image: the bytes
are checked by the worker like any image, stored without GPS and camera facts, and thumbnailed); the
profile points at it and shows it once it is ready, or says why it was refused."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from models_app.selectors import visible_models
from models_app.text import render_markdown
from resources import images
from resources.models import ImageStatus

from .collections import CollectionRefused, check_rate
from .models import MAX_BIO_LENGTH, MAX_LINK_LENGTH, MAX_PROFILE_LINKS, Follow, Profile
from .refusals import Refused, check_text

AVATAR_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}  # the pipeline's IMAGE_EXTENSIONS
MAX_AVATAR_BYTES = 5 * 1024 * 1024


class ProfileRefused(Refused):
    """A profiles write refused: status and sentence (community/refusals.py)."""


def profile_of(user) -> Profile | None:
    """The user's profile row, or None before they ever edited it (nothing is written on reads)."""
    return Profile.objects.select_related("avatar").filter(user=user).first()


def _profile_for_update(user) -> Profile:
    profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
    return profile


def clean_links(links) -> list[str]:
    """Up to MAX_PROFILE_LINKS absolute http(s) URLs; anything else (javascript:, data:, relative
    paths, credentials in the URL) is refused with a sentence naming the link."""
    if links is None:
        return []
    if isinstance(links, str):
        links = links.splitlines()
    if not isinstance(links, list | tuple):
        raise ProfileRefused(400, _("links is a list of URLs."))
    cleaned = []
    for raw in links:
        link = str(raw or "").strip()
        if not link:
            continue
        if len(link) > MAX_LINK_LENGTH:
            raise ProfileRefused(400, _("A link is at most %(n)d characters.") % {"n": MAX_LINK_LENGTH})
        try:
            parts = urlsplit(link)
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme.lower() not in ("http", "https")
            or not parts.hostname
            or parts.username
            or parts.password
            or any(c.isspace() or ord(c) < 32 for c in link)
        ):
            raise ProfileRefused(
                400,
                _("“%(link)s” is not a web address starting with https:// or http://.") % {"link": link[:80]},
            )
        if link not in cleaned:
            cleaned.append(link)
    if len(cleaned) > MAX_PROFILE_LINKS:
        raise ProfileRefused(400, _("A profile has at most %(n)d links.") % {"n": MAX_PROFILE_LINKS})
    return cleaned


def _check_rate(user) -> None:
    try:
        check_rate(user)
    except CollectionRefused as refused:
        raise ProfileRefused(refused.status, refused.message) from None


def update_profile(*, user, changes: dict) -> Profile:
    """Sets the bio (Markdown, rendered and sanitised once here) and/or the links; only the keys given
    change. Made on first use. Safe to repeat."""
    _check_rate(user)
    fields = {}
    if "bio" in changes:
        bio = str(changes["bio"] or "").strip()
        if len(bio) > MAX_BIO_LENGTH:
            raise ProfileRefused(400, _("A bio is at most %(n)d characters.") % {"n": MAX_BIO_LENGTH})
        check_text(ProfileRefused, bio=bio)
        fields["bio"], fields["bio_html"] = bio, render_markdown(bio) if bio else ""
    if "links" in changes:
        fields["links"] = clean_links(changes["links"])
    with transaction.atomic():
        profile = _profile_for_update(user)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.updated_at = timezone.now()
        profile.save()
    return profile


def set_avatar(*, user, name: str, content, size: int) -> Profile:
    """Posts the upload as an image (resources' pipeline checks, strips and thumbnails it in the
    worker) and makes it the avatar. A name or size the pipeline would refuse is refused here at once;
    bytes that are no image are refused by the worker, and the settings page shows its sentence."""
    name = (name or "avatar").rsplit("/", 1)[-1]
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in AVATAR_EXTENSIONS:
        raise ProfileRefused(400, _("An avatar is a PNG, JPEG or WebP image."))
    if size > MAX_AVATAR_BYTES:
        raise ProfileRefused(
            400, _("An avatar is at most %(mb)d MB.") % {"mb": MAX_AVATAR_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise ProfileRefused(400, _("The file is empty."))
    _check_rate(user)
    with transaction.atomic():
        post = images.create_post(owner=user, title=_("Avatar"))
        image = images.add_image(owner=user, name=name, content=content, post=post)
        profile = _profile_for_update(user)
        profile.avatar = image
        profile.updated_at = timezone.now()
        profile.save(update_fields=["avatar", "updated_at"])
    return profile


def remove_avatar(*, user) -> None:
    """Shows no avatar any more (the posted image stays the user's, as any image). Safe to repeat."""
    Profile.objects.filter(user=user).update(avatar=None, updated_at=timezone.now())


def avatar_state(profile: Profile | None) -> dict:
    """{"image": the ready avatar or None, "pending": bool, "refused": the worker's sentence or ""}."""
    image = profile.avatar if profile else None
    if image is None:
        return {"image": None, "pending": False, "refused": ""}
    return {
        "image": image if image.is_ready else None,
        "pending": image.status in (ImageStatus.PENDING, ImageStatus.PROCESSING),
        "refused": image.status_message if image.status == ImageStatus.REJECTED else "",
    }


def profile_stats(person, viewer) -> dict:
    """The figures on a profile: followers, downloads and reviews received (thumbs up and down) over
    the models `viewer` may see. Two queries, whatever the catalog holds."""
    models = visible_models(viewer).filter(owner=person)
    totals = models.aggregate(
        downloads=Coalesce(Sum("download_count"), 0),
        up=Coalesce(Sum("thumbs_up_count"), 0),
        down=Coalesce(Sum("thumbs_down_count"), 0),
    )
    return {
        "followers": Follow.objects.filter(creator=person).count(),
        "downloads": totals["downloads"],
        "thumbs_up": totals["up"],
        "thumbs_down": totals["down"],
    }


def images_of(person, viewer, *, show_mature: bool, limit: int = 24):
    """`person`'s newest images that `viewer` may see (their avatars included: they are posts)."""
    shown = images.visible_images(viewer).filter(owner=person)
    if not show_mature:
        shown = shown.filter(nsfw=False).filter(
            Q(post__version__isnull=True) | Q(post__version__model__nsfw=False)
        )
    return list(shown.order_by("-created_at", "-id")[:limit])


def remember_language(user, code: str) -> None:
    """Keeps the language `user` chose with the header's switcher, for what is sent them without a
    request (the notification digest). Unknown codes are ignored."""
    if code in dict(settings.LANGUAGES):
        Profile.objects.update_or_create(user=user, defaults={"language": code})


def language_of(user) -> str:
    """The language to write to `user` in when there is no request: their last choice, else the
    site's default."""
    chosen = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE
