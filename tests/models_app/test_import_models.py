"""`manage.py import_models`: local files through the same pipeline, one JSON line per file."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from models_app import demo
from models_app.models import AIModel, FileStatus, ModelFile
from tests.factories import make_user
from tests.models_app.test_scanning import exec_writing, torch_zip

# Transactional, so files are processed (inline) as soon as each import commits, as with a worker.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("import_models", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_folder_imports_one_model_per_file_and_bad_files_become_lines_not_crashes(base_models, tmp_path):
    make_user("gina")
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "gina_style.safetensors").write_bytes(demo.tiny_lora())
    (folder / "broken.safetensors").write_bytes(b"\xff" * 64)
    (folder / "evil.ckpt").write_bytes(torch_zip(exec_writing(tmp_path / "pwned")))
    (folder / "virus.exe").write_bytes(b"MZ")
    lines = run(str(folder), "--owner", "gina", "--wait", "--publish")
    by_name = {line["path"].rsplit("/", 1)[-1]: line for line in lines}
    assert set(by_name) == {"gina_style.safetensors", "broken.safetensors", "evil.ckpt", "virus.exe"}
    for line in lines:
        assert {"path", "model_id", "version_id", "status"} <= set(line)

    good = by_name["gina_style.safetensors"]
    assert good["status"] == "ready" and "message" not in good
    model = AIModel.objects.get(id=good["model_id"])
    assert (model.name, model.type, model.status) == ("gina style", "LORA", "published")
    assert model.versions.get().base_model.name == "SD 1.5"  # detected from the header

    assert by_name["broken.safetensors"]["status"] == "rejected"
    assert "safetensors" in by_name["broken.safetensors"]["message"]
    evil = by_name["evil.ckpt"]
    assert evil["status"] == "quarantined"
    # The message names what was found (the dangerous import), not only "the scan flagged this file".
    assert "flagged" in evil["message"] and "builtins.exec" in evil["message"], evil["message"]
    assert "Dangerous import" in evil["message"] and "\n" not in evil["message"]
    assert not (tmp_path / "pwned").exists()
    assert by_name["virus.exe"]["status"] == "rejected" and by_name["virus.exe"]["model_id"] is None
    assert ModelFile.objects.filter(status=FileStatus.READY).count() == 1


def test_the_type_and_base_model_can_be_given(base_models, tmp_path):
    make_user("hal")
    path = tmp_path / "thing.safetensors"
    path.write_bytes(demo.tiny_vae())
    [line] = run(str(path), "--owner", "hal", "--type", "VAE", "--base-model", "SDXL 1.0", "--wait")
    version = AIModel.objects.get(id=line["model_id"]).versions.get()
    assert (version.model.type, version.base_model.name, line["status"]) == ("VAE", "SDXL 1.0", "ready")


def test_an_unknown_owner_is_a_clear_error(base_models, tmp_path):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run(str(tmp_path), "--owner", "nobody")


def test_a_missing_path_is_reported_and_the_rest_goes_on(base_models, tmp_path):
    make_user("ivy")
    good = tmp_path / "ok.safetensors"
    good.write_bytes(demo.tiny_lora())
    lines = run(str(tmp_path / "missing.safetensors"), str(good), "--owner", "ivy", "--wait")
    assert [line["status"] for line in lines] == ["rejected", "ready"]
    assert lines[0]["message"] == "No such file."
