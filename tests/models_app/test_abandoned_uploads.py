"""Uploads abandoned longer than ABANDONED_UPLOAD_AFTER are stopped by the hourly sweep: their parts
leave storage, and the creator reads on their pages what happened (issue 12)."""

import os

import pytest

from models_app.models import FileStatus, ModelFile
from models_app.tasks import sweep_abandoned_uploads
from tests.factories import make_model

from .test_upload_limits import age, open_upload, stored_parts
from .test_uploads import PART, send_parts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]


def test_the_default_is_seven_days(settings):
    assert settings.ABANDONED_UPLOAD_AFTER == 7 * 24 * 3600


def test_an_abandoned_upload_is_stopped_its_parts_deleted_and_its_pages_say_so(client, creator, settings):
    settings.ABANDONED_UPLOAD_AFTER = 3600  # an operator's shorter setting
    model = make_model(creator, publish=False)
    version = model.versions.get()
    client.force_login(creator)
    upload = open_upload(client, version, name="forgotten.txt", size=2 * PART)
    send_parts(client, upload.id, os.urandom(2 * PART), numbers=[1])
    age(upload, 59 * 60)
    assert sweep_abandoned_uploads() == 0  # not yet an hour
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == [1]

    age(upload, 61 * 60)
    assert sweep_abandoned_uploads() == 1

    assert stored_parts(upload.upload_key, upload.multipart_upload_id) is None
    swept = ModelFile.objects.get(id=upload.id)
    assert (swept.status, swept.upload_key, swept.multipart_upload_id) == (FileStatus.REJECTED, "", "")
    message = (
        "This upload was left unfinished for more than 1 hour, so it was stopped and its parts deleted; "
        "upload the file again."
    )
    assert swept.status_message == message
    for url in (f"/models/{model.id}/versions/{version.id}/files", model.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "forgotten.txt" in html and 'data-status="rejected">Rejected<' in html and message in html
    # Nothing is offered for resume any more: picking the file again starts a new upload.
    found = client.get("/api/hub/uploads", {"version": version.id, "name": "forgotten.txt", "size": 2 * PART})
    assert found.json() == {"uploads": []}
