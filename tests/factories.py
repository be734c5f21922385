"""Small factories for test data. They go through the services, like real users do."""

import io

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from models_app import demo, services
from models_app.models import FileStatus, FileType, ModelFile, ModelType, ModelVersion
from models_app.tasks import process_file

PASSWORD = "correct horse battery staple"


def make_user(username: str, *, password: str = PASSWORD, **fields):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=password, **fields
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def make_model(
    owner,
    *,
    name: str = "Tiny Watercolor",
    type: str = ModelType.LORA,
    base_model: str = "SD 1.5",
    publish: bool = True,
    content: bytes | None = None,
    filename: str = "tiny.safetensors",
    **fields,
):
    """A model with one version and one file; published unless told otherwise."""
    model = services.create_model(owner=owner, name=name, type=type, **fields)
    version = services.create_version(model=model, name="v1.0", base_model=base_model, trained_words=["tiny"])
    model_file = services.add_file(
        version=version,
        name=filename,
        content=io.BytesIO(content if content is not None else demo.tiny_lora()),
    )
    if publish:
        # A version is public only once its files passed their checks: run the real task now (the
        # message queued for after the commit then finds nothing left to do).
        process_file.apply(args=[model_file.id])
        services.publish_version(version=version, by=owner)
        model.refresh_from_db()
    return model


def ensure_base_models():
    """Put back the base models that migration 0002 adds. Transactional tests (live server, worker) end
    by emptying every table, migration data included."""
    import importlib

    from django.apps import apps

    importlib.import_module("models_app.migrations.0002_base_models").add_base_models(apps, None)


def publish_model(owner, run_on_commit=None, **fields) -> ModelVersion:
    """A published model whose single file went through the real pipeline (hashed, scanned, ready)."""
    if run_on_commit is None:  # transactional tests: on_commit callbacks run at once
        return make_model(owner, **fields).versions.get()
    with run_on_commit():
        model = make_model(owner, **fields)
    return model.versions.get()


def add_file(version, run_on_commit, *, name, content, type=FileType.MODEL, **fields) -> ModelFile:
    """A file added to `version` and processed by the pipeline; `fields` are then set on its row."""
    with run_on_commit():
        model_file = services.add_file(version=version, name=name, content=io.BytesIO(content), type=type)
    if fields:
        ModelFile.objects.filter(id=model_file.id).update(**fields)
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.READY, model_file.status_message
    return model_file


def image_of(model_file: ModelFile):
    """The resources Image an example image file became when the worker finished it."""
    from resources.models import Image

    return Image.objects.get(source_file=model_file)


def add_example_image(version, run_on_commit, *, name, content):
    """An example image uploaded with the version's files, processed; returns its Image row."""
    return image_of(add_file(version, run_on_commit, name=name, content=content, type=FileType.IMAGE))
