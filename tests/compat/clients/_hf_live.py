"""Run real, unmodified third-party clients against the hub in tests.

`client_python(name, requirement)` gives the Python of a virtual environment under
var/client-venvs/<name> with `requirement` installed from the package index (pip, as a user would).
It is made once and reused while the requirement is unchanged; delete the folder to refresh it. When
the index can't be reached the test is skipped with the reason (REQUIRE_CLIENTS=1 fails it instead).

`run_client(python, script, args, env)` runs a script file in that environment, passing `args` as
JSON in argv[1], and returns the JSON the script prints last.
"""

import fcntl
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
RUN_TIMEOUT = 300
# What pip prints when the index can't be reached (no network, a proxy, DNS).
OFFLINE_SIGNS = (
    "Temporary failure in name resolution",
    "Network is unreachable",
    "NewConnectionError",
    "Max retries exceeded",
    "ProxyError",
    "Connection refused",
    "No matching distribution found",
)


def _index_unreachable(message: str):
    if os.environ.get("REQUIRE_CLIENTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def client_python(name: str, requirement: str) -> Path:
    """The Python of a cached virtual environment with `requirement` installed."""
    VENVS.mkdir(parents=True, exist_ok=True)
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".requirement"
    with open(VENVS / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs in one checkout build it once
        if python.exists() and marker.exists() and marker.read_text() == requirement:
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        try:
            result = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", requirement],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(venv, ignore_errors=True)
            _index_unreachable(f"pip install {requirement!r} timed out: is the package index reachable?")
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            output = result.stdout + result.stderr
            if any(sign in output for sign in OFFLINE_SIGNS):
                _index_unreachable(
                    f"pip could not install {requirement!r}; the index is unreachable:\n{output}"
                )
            raise RuntimeError(f"pip install {requirement!r} failed:\n{output}")
        marker.write_text(requirement)
        return python


def client_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a client run: this one without any HF_* variable, with a fresh HF_HOME
    (no token, no cache) and `extra` (HF_ENDPOINT)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.pop("PYTHONPATH", None)
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env.update(extra)
    return env


def run_client(python: Path, script: Path, args: dict, env: dict[str, str]) -> dict:
    """Run `script` with `args`; return the JSON object on its last line of output. The client's
    own output (progress bars, warnings) is shown when the run fails."""
    result = subprocess.run(
        [str(python), str(script), json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
    )
    if result.returncode != 0:
        raise AssertionError(f"{script.name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])
