"""Automatic signals into the queue (docs/moderation.md#automatic-signals): the classifier's higher
suggestion, a blocked image's near copy, a blocked term in a prompt, repeated reports; one open
automatic report per source and target. And the report rate limit."""

import io

import pytest
from PIL import Image as PILImage

from models_app.files import nsfw
from moderation import blocked_images, blocked_terms, services
from moderation.models import Report, ReportSource
from resources import images
from tests.factories import make_user

from .conftest import as_user, post_json
from .test_image_signals import other_picture, picture

pytestmark = pytest.mark.django_db


def png_with_prompt(prompt: str) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", f"{prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64")
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 64), (90, 140, 200)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def post(owner, data, run_on_commit, **fields):
    with run_on_commit():
        image = images.add_image(owner=owner, name="post.png", content=io.BytesIO(data), **fields)
    image.refresh_from_db()
    assert image.status == "ready", image.status_message
    return image


def automatic(source):
    return list(
        Report.objects.filter(source=source, reporter__isnull=True).values_list("target_id", flat=True)
    )


def test_an_image_the_classifier_rates_higher_than_its_creator_goes_to_the_queue(
    fan, run_on_commit, monkeypatch
):
    # Strict thresholds make a flat skin tone (score about 0.3) come out R; the classifier itself runs.
    monkeypatch.setattr(nsfw, "DEFAULT_THRESHOLDS", {2: 0.05, 4: 0.15, 8: 0.99})
    buffer = io.BytesIO()
    PILImage.new("RGB", (128, 128), (200, 150, 120)).save(buffer, "PNG")
    labelled_pg = post(fan, buffer.getvalue(), run_on_commit, nsfw_level=1)
    labelled_r = post(fan, buffer.getvalue(), run_on_commit, nsfw_level=4)
    assert labelled_pg.suggested_nsfw_level == 4
    assert automatic(ReportSource.CLASSIFIER) == [labelled_pg.id]  # R as chosen: nothing to review
    report = Report.objects.get(source=ReportSource.CLASSIFIER)
    assert report.reason == "mislabelled_level" and "suggests R" in report.details
    assert labelled_r.id not in automatic(ReportSource.CLASSIFIER)


def test_a_near_copy_of_a_blocked_image_goes_to_the_queue(fan, run_on_commit):
    original = post(fan, picture(), run_on_commit)
    blocked_images.block(original.phash, note="stolen art")
    copy = post(fan, picture((300, 300), fmt="JPEG", shift=10), run_on_commit)
    unrelated = post(fan, other_picture(), run_on_commit)
    assert automatic(ReportSource.BLOCKED_IMAGE) == [copy.id]
    assert "stolen art" in Report.objects.get(source=ReportSource.BLOCKED_IMAGE).details
    assert unrelated.id not in automatic(ReportSource.BLOCKED_IMAGE)


def test_a_blocked_term_in_a_prompt_goes_to_the_queue(fan, run_on_commit):
    blocked_terms.block("badword")
    flagged = post(fan, png_with_prompt("a lighthouse, b4dword, watercolor"), run_on_commit)
    clean = post(fan, png_with_prompt("a lighthouse, watercolor"), run_on_commit)
    assert automatic(ReportSource.BLOCKED_TERM) == [flagged.id]
    assert "“badword”" in Report.objects.get(source=ReportSource.BLOCKED_TERM).details
    assert clean.id not in automatic(ReportSource.BLOCKED_TERM)


def test_three_people_reporting_one_thing_raise_it_once(version):
    model_id = version.model_id
    for n in range(4):
        services.report(
            reporter=make_user(f"reporter{n}"), target_type="model", target_id=model_id, reason="spam"
        )
    assert automatic(ReportSource.REPEATED_REPORTS) == [model_id]


def test_reports_are_limited_per_minute(version, fan, settings):
    settings.REPORT_RATE_LIMIT = 2
    client = as_user(fan)
    answers = [
        post_json(
            client, "/api/hub/reports", {"target_type": target, "target_id": target_id, "reason": "spam"}
        ).status_code
        for target, target_id in (
            ("model", version.model_id),
            ("version", version.id),
            ("user", version.model.owner_id),
        )
    ]
    assert answers == [201, 201, 429]
