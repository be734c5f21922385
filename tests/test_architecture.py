"""The one-way import rule (docs/architecture.md), as import-linter checks it in `make lint` and CI.

The contracts live in pyproject.toml. These tests run lint-imports on a copy of the code, so they can
also show that a deliberate violation breaks the build instead of passing silently.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "billing", "models_app", "resources", "community", "moderation", "compat")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture
def code(tmp_path) -> Path:
    """A copy of the project's Python packages and its pyproject.toml, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    # lint-imports puts its working directory first on the path, so the copy in `where` is what it
    # analyses, not the project the virtual environment has installed.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_code_keeps_every_import_contract(code):
    result = lint_imports(code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_an_app_importing_an_app_above_it_fails_the_lint(code):
    add_line(code / "models_app" / "selectors.py", "from community.models import ApiKey")
    result = lint_imports(code)
    assert result.returncode != 0
    assert "models_app is not allowed to import community" in result.stdout
    assert "models_app.selectors -> community.models" in result.stdout


def test_billing_may_not_ask_the_content_apps(code):
    add_line(code / "billing" / "apps.py", "import models_app.models")
    result = lint_imports(code)
    assert result.returncode != 0
    assert "billing is not allowed to import models_app" in result.stdout


def test_the_readers_of_untrusted_bytes_import_no_app(code):
    add_line(code / "models_app" / "files" / "images.py", "from models_app.models import ModelFile")
    result = lint_imports(code)
    assert result.returncode != 0
    assert "models_app.files is not allowed to import models_app.models" in result.stdout


def test_only_hub_urls_imports_the_compatibility_apis(code):
    add_line(code / "hub" / "views.py", "from compat.civitai import shapes")
    result = lint_imports(code)
    assert result.returncode != 0
    assert "hub.views -> compat.civitai.shapes" in result.stdout


def test_an_import_cycle_hidden_inside_a_function_fails_the_lint(code):
    # The cycle this layout removed: services -> tasks -> processing -> services.
    processing = code / "models_app" / "processing.py"
    processing.write_text(
        processing.read_text() + "\n\ndef _late():\n    from .services import unique_slug  # noqa\n"
    )
    result = lint_imports(code)
    assert result.returncode != 0
    assert "No cycles are allowed in models_app" in result.stdout
