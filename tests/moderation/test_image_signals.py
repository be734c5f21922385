"""What the worker records about each image for moderation (docs/moderation.md#automatic-suggestions,
#blocked-images): the classifier's suggested level and score, and a perceptual hash that finds the same
picture again after resizing and re-encoding."""

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image as PILImage
from PIL import ImageDraw

from moderation import blocked_images
from resources import images
from resources.models import Image

pytestmark = pytest.mark.django_db


def picture(size=(512, 512), *, fmt="PNG", shift=0) -> bytes:
    """A picture with structure (bands and a disc), so its perceptual hash means something."""
    canvas = PILImage.new("RGB", size, (240, 230, 210))
    draw = ImageDraw.Draw(canvas)
    w, h = size
    for i in range(0, w, w // 8):
        draw.rectangle([i, 0, i + w // 16, h], fill=(40, 60 + shift, 120))
    draw.ellipse([w // 4, h // 4, 3 * w // 4, 3 * h // 4], fill=(200, 40, 40))
    buffer = io.BytesIO()
    canvas.save(buffer, fmt, **({"quality": 70} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def other_picture() -> bytes:
    canvas = PILImage.new("RGB", (512, 512), (20, 20, 20))
    draw = ImageDraw.Draw(canvas)
    for i in range(0, 512, 32):
        draw.line([0, i, 512, 511 - i], fill=(250, 250, 90), width=9)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def posted(owner, data: bytes, run_on_commit) -> Image:
    with run_on_commit():
        image = images.add_image(owner=owner, name="picture.png", content=io.BytesIO(data))
    image.refresh_from_db()
    assert image.status == "ready", image.status_message
    return image


def test_the_worker_rates_and_hashes_each_image(fan, run_on_commit):
    image = posted(fan, picture(), run_on_commit)
    assert image.suggested_nsfw_level == 1 and 0 <= image.nsfw_score < 0.4
    assert len(image.phash) == 16 and int(image.phash, 16) >= 0


def test_a_resized_re_encoded_copy_matches_a_blocked_image_and_another_picture_does_not(fan, run_on_commit):
    original = posted(fan, picture(), run_on_commit)
    blocked_images.block(original.phash, note="reported as stolen")
    copy = posted(fan, picture((300, 300), fmt="JPEG", shift=10), run_on_commit)
    assert blocked_images.distance(original.phash, copy.phash) <= 8
    assert blocked_images.match(copy.phash).note == "reported as stolen"
    unrelated = posted(fan, other_picture(), run_on_commit)
    assert blocked_images.match(unrelated.phash) is None


@pytest.mark.parametrize("bad", ["", "xyz", "0123456789abcdeg", "0" * 17])
def test_only_a_16_hex_digit_hash_can_be_blocked(bad):
    with pytest.raises(ValidationError):
        blocked_images.block(bad)
