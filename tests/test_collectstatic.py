"""The Docker image runs `collectstatic` with STATIC_MANIFEST=true: every referenced file must exist."""

from django.core.management import call_command


def test_collectstatic_with_hashed_names_succeeds_and_covers_the_vendored_files(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    collected = {p.name for p in (tmp_path / "static").rglob("*")}
    assert any(
        name.startswith("uppy.min.") and name.endswith(".js") and name != "uppy.min.js" for name in collected
    )
    assert "staticfiles.json" in collected
