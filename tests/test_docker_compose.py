"""The Docker deployment (Dockerfile, docker-compose.yml, .env.example), checked structurally.

Docker can't run here, so these tests read the files: the stack has the services it needs, in the right
order, running the right commands, and every variable it hands the hub is one hub/settings.py reads
(settings records each name in ENV_VARS_READ), so a typo or a renamed setting can't silently do nothing.
"""

import importlib.util
import json
import os
import re
import shlex
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

import hub.settings as hub_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"

HUB_SERVICES = ("web", "worker-heavy", "worker-light", "beat", "createbucket", "migrate")
# Variables that belong to the postgres and minio images, not to the hub.
IMAGE_VARIABLE_PREFIXES = ("POSTGRES_", "MINIO_ROOT_")
# Variables that configure Python and pip inside the hub's image.
PYTHON_VARIABLE_PREFIXES = ("PYTHON", "PIP_")
# Read by settings but meaningless for this stack, with the reason.
NOT_FOR_THE_STACK = {
    "CELERY_BROKER_DIR": "the folder of the filesystem broker, used only when there is no Redis",
    "MEDIA_ROOT": "the folder of local-disk storage, which MinIO replaces here",
    "SQLITE_PATH": "the SQLite file, used only when there is no DATABASE_URL",
}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt} and $NAME;
# $$ is a literal dollar sign.
INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_]\w*))")
ENV_LINE = re.compile(r"^([A-Za-z_]\w*)=(.*)$")
COMMENTED_ENV_LINE = re.compile(r"^#\s*([A-Za-z_]\w*)=(.*)$")


# --- Reading the files.


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def comment_above(name: str) -> str:
    lines = [line.strip() for line in ENV_EXAMPLE.read_text().splitlines()]
    index = next(i for i, line in enumerate(lines) if ENV_LINE.match(line) and line.startswith(f"{name}="))
    return lines[index - 1] if index and lines[index - 1].startswith("#") else ""


def parse_env_example():
    """(values of the active NAME=value lines, names of the commented-out "# NAME=value" lines)."""
    active, commented = {}, set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if match := ENV_LINE.match(line):
            assert match[1] not in active, f".env.example sets {match[1]} twice"
            active[match[1]] = match[2]
        elif match := COMMENTED_ENV_LINE.match(line):
            commented.add(match[1])
    return active, commented


def env_example_names():
    active, commented = parse_env_example()
    return set(active) | commented


def environment_of(service) -> dict:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return environment


def env_files_of(service) -> list[str]:
    env_file = service.get("env_file") or []
    if isinstance(env_file, str | dict):
        env_file = [env_file]
    return [item["path"] if isinstance(item, dict) else item for item in env_file]


def names_a_service_receives(service) -> set[str]:
    """Every variable a service gets: its `environment`, and what its env_file can hold. The .env it
    reads is the operator's copy of .env.example, so every name there counts, commented out or not."""
    names = set(environment_of(service))
    for path in env_files_of(service):
        assert path in (".env", "./.env"), f"unexpected env_file {path}; only .env (from .env.example)"
        names |= env_example_names()
    return names


def command_of(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def strings_in(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def interpolations(compose):
    """(name, operator) for every ${...} in the compose file's values; operator is None for ${NAME}."""
    for text in strings_in(compose):
        for match in INTERPOLATION.finditer(text):
            yield (match[1] or match[4]), match[2]


def interpolated_name(value: str) -> str:
    match = INTERPOLATION.fullmatch(value.strip())
    assert match, f"{value!r} is not a single ${{VARIABLE}}"
    return match[1] or match[4]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) for each instruction, with continuation lines joined."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends in a line continuation"
    return instructions


def dockerfile(keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == keyword]


def dockerfile_env() -> dict[str, str]:
    variables = {}
    for arguments in dockerfile("ENV"):
        words = shlex.split(arguments)
        if "=" in words[0]:
            variables |= dict(word.partition("=")[::2] for word in words)
        else:  # the legacy form: ENV NAME value
            variables[words[0]] = " ".join(words[1:])
    return variables


def dockerfile_env_names() -> set[str]:
    return set(dockerfile_env())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, enough for the values used here."""

    def replace(match):
        name, operator, argument = match[1] or match[4], match[2] or "", match[3] or ""
        value = variables.get(name)
        unset = value is None or (value == "" and operator.startswith(":"))
        if operator in ("-", ":-"):
            return argument if unset else value
        if operator in ("+", ":+"):
            return "" if unset else argument
        return "" if unset else value

    return INTERPOLATION.sub(replace, value)


@pytest.fixture(scope="module")
def stack_settings(services, tmp_path_factory):
    """hub/settings.py run again, in the environment the stack gives web: the image's ENV, then .env
    (copied from .env.example), then docker-compose.yml's environment. Only the folders move to tmp."""
    active, _ = parse_env_example()
    environ = dockerfile_env() | active
    environ |= {name: interpolate(value, active) for name, value in environment_of(services["web"]).items()}
    folder = tmp_path_factory.mktemp("stack")
    environ |= {"VAR_DIR": str(folder / "var"), "STATIC_ROOT": str(folder / "static")}
    spec = importlib.util.spec_from_file_location("settings_under_the_stack", hub_settings.__file__)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ, environ, clear=True):
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def read_by_settings(stack_settings):
    """Settings may read a variable only in some configurations (say, only with DATABASE_URL set): the
    names read here, with no configuration, and under the stack's."""
    return hub_settings.ENV_VARS_READ | stack_settings.ENV_VARS_READ


def exec_form(arguments: str) -> list[str]:
    assert arguments.startswith("["), f"use the exec form (a JSON list), not {arguments!r}"
    return json.loads(arguments)


# --- docker-compose.yml: services and how they start.


def test_the_compose_file_parses_and_has_every_service_of_the_stack(services):
    expected = {"postgres", "redis", "minio", "createbucket", "migrate", "web", "proxy", "beat"}
    assert expected | {"worker-heavy", "worker-light"} <= set(services)


def test_migrations_run_once_in_their_own_service_before_web_starts(services):
    assert command_of(services["migrate"]) == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Replicas of web (--scale web=3) must not each run migrate at the same time.
    assert "migrate" not in command_of(services["web"])


def test_web_runs_gunicorn_on_port_8000_behind_the_one_published_proxy(services):
    command = command_of(services["web"])
    assert command.startswith("gunicorn hub.wsgi:application")
    assert "--bind 0.0.0.0:8000" in command
    assert "--workers 2" in command
    # A published port on web would stop `--scale web=3`: the proxy publishes 8000 and reaches every
    # replica by the service name.
    assert "ports" not in services["web"]
    assert any(str(port).endswith("8000:8000") for port in services["proxy"]["ports"])
    assert "web:8000" in command_of(services["proxy"])
    assert environment_of(services["web"])["TRUSTED_PROXY_HOPS"] == "1"


def test_each_queue_has_its_worker_and_beat_runs_celery_beat(services):
    for queue in ("heavy", "light"):
        command = command_of(services[f"worker-{queue}"])
        assert command.startswith("celery -A hub worker")
        assert f"-Q {queue} " in command
        assert "--loglevel INFO" in command
    assert command_of(services["beat"]).startswith("celery -A hub beat")
    assert "--loglevel INFO" in command_of(services["beat"])


def test_web_starts_after_postgres_and_redis_are_healthy_and_the_bucket_exists(services):
    depends_on = services["web"]["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["createbucket"]["condition"] == "service_completed_successfully"


def test_the_workers_and_beat_start_only_after_the_database_is_migrated(services):
    for name in ("worker-heavy", "worker-light", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_web_is_health_checked_on_healthz(services):
    test = services["web"]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    check = " ".join(test[1:])
    assert "http://127.0.0.1:8000/healthz" in check
    # A 400 for an unknown Host or a 301 to https when HTTPS=true would make web unhealthy forever.
    assert "ALLOWED_HOSTS" in check and "X-Forwarded-Proto" in check


def test_the_web_health_check_is_a_valid_python_script(services):
    # python:3.11-slim has no curl or wget; the check is Python.
    test = services["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "web healthcheck", "exec")


def test_createbucket_runs_create_bucket_from_the_web_image_once_minio_is_healthy(services):
    createbucket, web = services["createbucket"], services["web"]
    assert command_of(createbucket) == "python manage.py create_bucket"
    assert createbucket["depends_on"]["minio"]["condition"] == "service_healthy"
    assert createbucket.get("build") == web["build"] == "."
    assert createbucket.get("image") == web.get("image")
    assert createbucket.get("restart", "no") == "no", "a one-shot job must not be restarted"


def test_postgres_redis_and_minio_are_health_checked_and_keep_their_data_in_named_volumes(compose, services):
    assert services["postgres"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["image"] == "redis:7"
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    assert services["minio"]["image"].startswith("minio/minio")
    assert command_of(services["minio"]).startswith("server /data --console-address")
    assert services["minio"]["healthcheck"]["test"]
    for name, data_dir in (("postgres", "/var/lib/postgresql/data"), ("minio", "/data")):
        volume, _, target = services[name]["volumes"][0].partition(":")
        assert target == data_dir, name
        assert volume in compose["volumes"], f"{name} must keep its data in a named volume"


# --- docker-compose.yml: configuration.


def test_the_hub_services_share_env_file_and_one_anchored_environment(compose, services):
    raw = COMPOSE_FILE.read_text()
    anchors = {key: value for key, value in compose.items() if key.startswith("x-")}
    assert anchors, "the shared configuration lives under an x- key"
    assert re.search(r"^x-[\w-]+: &[\w-]+", raw, re.MULTILINE), "and is a YAML anchor"
    common = environment_of(services["web"])
    assert common in anchors.values(), "web's environment is the anchored x- mapping"
    for name in HUB_SERVICES:
        assert env_files_of(services[name]) == [".env"], name
        assert environment_of(services[name]) == common, name
    assert common["DATABASE_URL"] == "postgres://hub:hub@postgres:5432/hub"
    assert common["REDIS_URL"] == "redis://redis:6379/0"
    assert common["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert interpolated_name(common["S3_BUCKET"]) == "S3_BUCKET"


def test_database_url_carries_the_postgres_service_credentials(services):
    url = urlsplit(environment_of(services["web"])["DATABASE_URL"])
    postgres = environment_of(services["postgres"])
    assert url.scheme == "postgres"
    assert url.hostname == "postgres" and (url.port or 5432) == 5432
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"]


def test_the_hub_s3_credentials_are_minio_root_credentials(services):
    hub, minio = environment_of(services["web"]), environment_of(services["minio"])
    assert interpolated_name(hub["S3_ACCESS_KEY"]) == interpolated_name(minio["MINIO_ROOT_USER"])
    assert interpolated_name(hub["S3_SECRET_KEY"]) == interpolated_name(minio["MINIO_ROOT_PASSWORD"])
    assert interpolated_name(minio["MINIO_ROOT_USER"]) == "MINIO_ROOT_USER"
    assert interpolated_name(minio["MINIO_ROOT_PASSWORD"]) == "MINIO_ROOT_PASSWORD"


def test_every_variable_the_stack_sets_is_read_by_settings(services, read_by_settings):
    for name in HUB_SERVICES:
        received = names_a_service_receives(services[name])
        assert received, name
        unknown = {
            variable
            for variable in received
            if not variable.startswith(IMAGE_VARIABLE_PREFIXES) and variable not in read_by_settings
        }
        assert not unknown, f"{name} gets variables hub/settings.py never reads: {sorted(unknown)}"


def test_every_variable_in_env_example_is_read_by_settings_or_used_by_compose_or_an_image(
    compose, read_by_settings
):
    interpolated = {name for name, _ in interpolations(compose)}
    unused = {
        name
        for name in env_example_names()
        if name not in read_by_settings
        and name not in interpolated
        and not name.startswith(IMAGE_VARIABLE_PREFIXES)
    }
    assert not unused, f".env.example has variables nothing reads: {sorted(unused)}"


def test_every_variable_compose_needs_from_env_is_in_env_example(compose):
    active, _ = parse_env_example()
    found = list(interpolations(compose))
    assert found, "docker-compose.yml takes MinIO's credentials from .env"
    missing = {name for name, operator in found if operator not in ("-", ":-") and name not in active}
    assert not missing, f"docker-compose.yml interpolates variables .env.example doesn't set: {missing}"


def test_every_variable_settings_reads_is_set_by_the_stack_or_offered_in_env_example(
    services, stack_settings
):
    provided = env_example_names() | dockerfile_env_names() | set(NOT_FOR_THE_STACK)
    for name in HUB_SERVICES:
        provided |= set(environment_of(services[name]))
    missing = stack_settings.ENV_VARS_READ - provided
    assert not missing, f"add these settings to .env.example (commented out if optional): {sorted(missing)}"


def test_settings_in_the_stack_use_postgres_redis_and_minio_and_the_env_secret_key(stack_settings):
    active, _ = parse_env_example()
    database = stack_settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"], database["USER"]) == ("postgres", "hub", "hub")
    assert stack_settings.CELERY_BROKER_URL == "redis://redis:6379/0"
    assert stack_settings.CACHES["default"]["LOCATION"] == "redis://redis:6379/0"
    models = stack_settings.STORAGES["models"]
    assert models["BACKEND"] == "storages.backends.s3.S3Storage"
    assert models["OPTIONS"]["bucket_name"] == active["S3_BUCKET"]
    assert models["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert models["OPTIONS"]["access_key"] == active["MINIO_ROOT_USER"]
    assert models["OPTIONS"]["secret_key"] == active["MINIO_ROOT_PASSWORD"]
    assert stack_settings.SECRET_KEY == active["SECRET_KEY"]
    assert stack_settings.DEBUG is False and stack_settings.HTTPS is False


# --- .env.example.


def test_env_example_has_safe_placeholders_and_production_defaults():
    active, _ = parse_env_example()
    assert "change-me" in active["SECRET_KEY"] and "change me" in comment_above("SECRET_KEY").lower()
    assert active["DEBUG"] == "false"
    assert active["HTTPS"] == "false"
    assert re.search(r"true.*\btls\b", comment_above("HTTPS").lower()), "say to set it true behind TLS"
    assert active["ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    assert active["S3_BUCKET"] == "models"
    assert active["MINIO_ROOT_USER"]
    assert "change-me" in active["MINIO_ROOT_PASSWORD"]
    assert len(active["MINIO_ROOT_PASSWORD"]) >= 8, "MinIO refuses passwords shorter than 8 characters"


def test_every_variable_in_env_example_has_a_comment_above_it():
    lines = [line.strip() for line in ENV_EXAMPLE.read_text().splitlines()]
    for previous, line in zip(lines, lines[1:], strict=False):
        match = ENV_LINE.match(line) or COMMENTED_ENV_LINE.match(line)
        if match:
            assert previous.startswith("#") and not COMMENTED_ENV_LINE.match(previous), (
                f"{match[1]} needs a one-line comment above it"
            )


def test_env_example_does_not_set_what_compose_sets_itself(services):
    active, _ = parse_env_example()
    # environment: wins over env_file, so these lines in .env would be silently ignored.
    overlap = set(active) & set(environment_of(services["web"])) - {"S3_BUCKET"}
    assert not overlap, f"docker-compose.yml sets these; remove them from .env.example: {overlap}"


# --- Dockerfile.


def test_the_image_runs_gunicorn_serving_hub_wsgi_on_port_8000_with_two_workers():
    assert dockerfile("CMD"), "the Dockerfile needs a CMD"
    assert not dockerfile("ENTRYPOINT"), "an ENTRYPOINT would wrap compose's celery and migrate commands"
    command = exec_form(dockerfile("CMD")[-1])
    assert command[:2] == ["gunicorn", "hub.wsgi:application"]
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert command[command.index("--workers") + 1] == "2"
    assert "8000" in dockerfile("EXPOSE")


def test_the_image_is_python_3_11_slim_and_installs_the_project_without_dev_extras():
    assert dockerfile("FROM")[0].split()[0] == "python:3.11-slim"
    runs = dockerfile("RUN")
    assert any(re.search(r"pip install \.(\s|$)", run) for run in runs)
    assert not any("[dev]" in run for run in runs)


def test_the_image_runs_as_a_non_root_user():
    users = dockerfile("USER")
    assert users, "the Dockerfile must switch to a non-root USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_collectstatic_runs_at_build_time_with_a_throwaway_secret_key_for_that_step_only():
    collectstatic = [run for run in dockerfile("RUN") if "manage.py collectstatic --noinput" in run]
    assert collectstatic, "static files are collected when the image is built"
    assert "SECRET_KEY=" in collectstatic[0]
    assert "SECRET_KEY" not in dockerfile_env_names(), "no SECRET_KEY may stay in the image"


def test_the_image_copies_every_local_app_and_what_the_hub_reads_at_run_time():
    copied = set()
    for arguments in dockerfile("COPY"):
        words = [word for word in shlex.split(arguments) if not word.startswith("--")]
        copied |= {source.rstrip("/") for source in words[:-1]}
    assert "." not in copied, "COPY . would put .env and .venv in the image (there is no .dockerignore)"
    local_apps = {app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()}
    assert local_apps, "INSTALLED_APPS has the hub's own apps"
    needed = local_apps | {"hub", "manage.py", "pyproject.toml", "templates", "static"}
    assert needed <= copied, f"the image lacks {sorted(needed - copied)}"
    assert all((ROOT / source).exists() for source in copied), "the Dockerfile copies missing paths"


def test_every_variable_the_dockerfile_sets_configures_python_or_is_read_by_settings(read_by_settings):
    names = dockerfile_env_names()
    assert names
    unknown = {
        name
        for name in names
        if not name.startswith(PYTHON_VARIABLE_PREFIXES) and name not in read_by_settings
    }
    assert not unknown, f"the Dockerfile sets variables hub/settings.py never reads: {sorted(unknown)}"
