"""The files table of the model page: AutoV2 and the full SHA256, each with a copy button, and what
the file's header says it is, with the detector's confidence (issue 12)."""

import pytest

from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_the_model_page_shows_autov2_and_sha256_to_copy_and_the_detected_type(client, creator):
    model = make_model(creator)
    model_file = model.versions.get().files.get()
    sha = model_file.blob.sha256
    html = client.get(model.get_absolute_url()).content.decode()
    assert f'<code class="sha256" data-sha256="{sha}">{sha}</code>' in html  # the whole hash, not a tooltip
    assert f'data-copy="{sha}" aria-label="Copy the SHA256 of tiny.safetensors"' in html
    assert f'<code data-autov2="{sha[:10]}">{sha[:10]}</code>' in html
    assert f'data-copy="{sha[:10]}" aria-label="Copy the AutoV2 of tiny.safetensors"' in html
    detected = model_file.metadata["detected"]
    assert (detected["model_type"], detected["base_model"]) == ("LORA", "SD 1.5")
    confidence = round(100 * detected["confidence"])
    assert f"Detected: LoRA for SD 1.5 ({confidence}% confidence)" in html
    assert f'data-testid="download-{model_file.id}"' in html


def test_the_files_api_gives_the_same_detection_in_words(client, creator):
    model = make_model(creator)
    version = model.versions.get()
    [shown] = client.get(f"/api/hub/versions/{version.id}/files").json()["files"]
    assert shown["detected_summary"].startswith("LoRA for SD 1.5 (") and shown["hashes"]["AutoV2"]
    # The live table (file-status.js) words the format as the server-drawn one does.
    assert (shown["format"], shown["format_label"]) == ("SafeTensor", "safetensors")


def test_a_file_without_a_detection_shows_no_detected_line(client, creator, run_on_commit):
    import io

    from models_app import services

    model = make_model(creator)
    version = model.versions.get()
    with run_on_commit():
        services.add_file(version=version, name="notes.txt", content=io.BytesIO(b"just notes"), type="Other")
    html = client.get(model.get_absolute_url()).content.decode()
    assert "notes.txt" in html and html.count("Detected:") == 1
