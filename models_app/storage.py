"""Where model bytes live. Code asks for model_storage(), never for a backend class.

Local disk by default, S3 when S3_BUCKET is set (hub/settings.py). This is the only module that may
talk to boto3 directly.
"""

import uuid

from django.conf import settings
from django.core.files.storage import storages


def model_storage():
    return storages["models"]


def new_upload_key(filename: str) -> str:
    """A fresh key for bytes that have not been hashed yet; the filename is never part of it."""
    return f"uploads/{uuid.uuid4().hex}"


def is_s3() -> bool:
    return bool(settings.S3_BUCKET)


def s3_client():
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.S3_ENDPOINT_URL or None,
        aws_access_key_id=settings.S3_ACCESS_KEY or None,
        aws_secret_access_key=settings.S3_SECRET_KEY or None,
        region_name=settings.S3_REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def ensure_bucket() -> bool:
    """Create the S3 bucket if it is missing. Returns True when it was created."""
    client = s3_client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if settings.S3_BUCKET in existing:
        return False
    client.create_bucket(Bucket=settings.S3_BUCKET)
    return True


def copy_object(src_key: str, dst_key: str) -> None:
    """Copy stored bytes to a new key without passing them through this process.

    If dst_key already exists it holds the same bytes (keys are content hashes), so nothing is done.
    The source is left in place: the caller deletes it once the database points at the copy, so a
    crash at any moment leaves a state that the same call can finish.
    """
    storage = model_storage()
    if storage.exists(dst_key):
        return
    if is_s3():
        prefix = storage.location.strip("/")
        src = f"{prefix}/{src_key}" if prefix else src_key
        dst = f"{prefix}/{dst_key}" if prefix else dst_key
        # boto3's managed copy runs server-side, in parts for big objects.
        s3_client().copy({"Bucket": settings.S3_BUCKET, "Key": src}, settings.S3_BUCKET, dst)
    else:
        import os
        import shutil

        dst_path = storage.path(dst_key)
        os.makedirs(os.path.dirname(dst_path), exist_ok=True)
        tmp_path = f"{dst_path}.{uuid.uuid4().hex}.tmp"
        try:
            os.link(storage.path(src_key), tmp_path)  # same disk: no bytes copied
        except OSError:
            shutil.copyfile(storage.path(src_key), tmp_path)
        os.replace(tmp_path, dst_path)
