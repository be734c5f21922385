"""API fuzzing (docs/hostile-input.md#api-fuzzing): schemathesis generates requests from the hub's own
OpenAPI schema (/api/schema/, drf-spectacular) and from the hand-written schemas of the CivitAI and
Hugging Face parameters the hub accepts (compat/openapi/*.yaml), sends them in-process to the WSGI
app with a creator's API key, and checks every answer: never a server error, and the body matches
the schema documented for its status code.

Each operation gets valid requests (positive mode) and requests the schema forbids (negative mode),
some with the ids of real rows so writes reach the services, not only the 404s. The examples are
derandomized, so CI is repeatable; FUZZ_EXAMPLES (default 3 per operation and mode) widens a run
locally."""

import functools
import io
import json
import os
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from community.models import ApiKey
from tests.factories import make_model

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance]


@functools.cache
def _hub_schema() -> dict:
    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return json.loads(out.getvalue())


@functools.cache
def _load(name: str):
    document = SCHEMAS[name]()
    schema = schemathesis.openapi.from_dict(document)
    schema.app = WSGIHandler()
    return schema


@pytest.fixture(autouse=True)
def _keep_the_test_database_open():
    """A WSGI request ends by closing the database connection, which would end the test's
    transaction; Django's test client disconnects the same handler around its requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


SCHEMAS = {
    "hub": _hub_schema,
    "civitai": lambda: _yaml(ROOT / "compat" / "openapi" / "civitai.yaml"),
    "hf": lambda: _yaml(ROOT / "compat" / "openapi" / "hf.yaml"),
}


@functools.cache
def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def _operations(name: str) -> list[str]:
    document = SCHEMAS[name]()
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture
def world(creator, fan, run_on_commit):
    """Real rows for the fuzzer's path parameters to hit, and the creator's API key."""
    from community import collections, comments

    with run_on_commit():
        model = make_model(creator, name="Fuzzed LoRA", description="Some *markdown*.")
    version = model.versions.get()
    _, key = ApiKey.create(user=creator, name="fuzzer")
    ids = {
        "model_id": model.id,
        "version_id": version.id,
        "file_id": version.files.first().id,
        "username": creator.username,
        "namespace": creator.username,  # the HF repo <owner>/<slug> (docs/hf-api.md)
        "name": model.slug,
        "revision": "main",
        "id": model.id,
    }
    ids["comment_id"] = comments.post_comment(
        fan, comments.find_target(fan, "model", model.id), "Nice, see @alice"
    ).id
    ids["collection_id"] = collections.create_collection(owner=creator, name="Fuzzed").id
    return {"headers": {"Authorization": f"Bearer {key}"}, "ids": ids}


def _fuzz(name: str, label: str, world):
    schema = _load(name)
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    known = {
        parameter.name: world["ids"][parameter.name]
        for parameter in operation.path_parameters
        if parameter.name in world["ids"]
    }
    # With real ids in the path, writes reach the services; one random-id strategy keeps the 404s fuzzed.
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known or None),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=known or None),
    ]
    if known:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(strategies))
    def run(case):
        from django.core.cache import cache

        cache.clear()  # rate limits would turn the later examples into 429s
        case.call_and_validate(headers=world["headers"], checks=CHECKS)

    run()


@pytest.mark.parametrize("label", _operations("hub"))
def test_the_hub_api_never_errs_and_answers_match_its_schema(label, world):
    _fuzz("hub", label, world)


@pytest.mark.parametrize("label", _operations("civitai"))
def test_the_civitai_api_never_errs_and_answers_match_the_hand_written_schema(label, world):
    _fuzz("civitai", label, world)


@pytest.mark.parametrize("label", _operations("hf"))
def test_the_hf_api_never_errs_and_answers_match_the_hand_written_schema(label, world):
    _fuzz("hf", label, world)
