"""Helpers for tests that run real third-party clients against a live hub.

`client_venv` installs a client from PyPI into its own virtual environment, cached under
var/client-venvs/<name> and rebuilt when the requirement changes, so the client runs exactly as its
users run it: unmodified, with its own dependencies, in another process. When PyPI can't be reached
the test is skipped with the reason (CI reaches it). The live server is pytest-django's
`live_server`: the hub in a thread of the test process, on the test database.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

VENVS = Path(settings.VAR_DIR) / "client-venvs"
INSTALL_TIMEOUT = 900
_OFFLINE_SIGNS = (
    "(from versions: none)",
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectionError",
    "ProxyError",
)


def client_venv(name: str, requirement: str) -> Path:
    """The python of a virtual environment holding `requirement` (e.g. "civitapy==0.1.3")."""
    root = VENVS / name
    python = root / "bin" / "python"
    marker = root / "requirement.txt"
    if python.exists() and marker.exists() and marker.read_text() == requirement:
        return python
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        if any(sign in result.stderr for sign in _OFFLINE_SIGNS):
            pytest.skip(f"PyPI is unreachable, so {requirement} could not be installed:\n{tail}")
        pytest.fail(f"pip could not install {requirement}:\n{tail}")
    marker.write_text(requirement)  # last: a half-built environment is never reused
    return python


def run_script(python: Path, script: Path, *, args=(), env=None, timeout: int = 300) -> dict:
    """Run `script` with that python and return the JSON object it prints on its last line."""
    result = subprocess.run(
        [str(python), str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        pytest.fail(
            f"{script.name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])
