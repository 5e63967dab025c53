"""Scan media on a real S3-compatible server: scan -> stored object -> ``media/{n}`` -> retention purge.

The server is moto's (``ThreadedMotoServer``, the S3 API over HTTP on 127.0.0.1, started here);
the project talks to it through django-storages' ``S3Storage`` configured as ``moderation.settings``
configures it (private objects, no overwrite, checksums only when required, SigV4): real requests,
real objects, no client stubbed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from moto.server import ThreadedMotoServer
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from tests.scans.test_scan_storage import probe
from tests.support.scans import upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"
BUCKET = "fakeme-media-test"
CREDENTIALS = {"aws_access_key_id": "fakeme-test", "aws_secret_access_key": "fakeme-test-secret"}
REGION = "kr-standard"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, settings: Any) -> Iterator[Any]:
    """A fresh bucket, and the project's default storage pointed at it (the settings' own options)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    configured = probe(
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME=REGION,
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
    )
    # What the settings build from the environment: the same backend and options here.
    assert configured["backend"] == "storages.backends.s3.S3Storage"
    assert configured["request_checksum"] == configured["response_checksum"] == "when_required"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": configured["backend"],
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": configured["acl"],
                "querystring_auth": True,
                "file_overwrite": configured["overwrite"],
                "client_config": Config(
                    request_checksum_calculation=configured["request_checksum"],
                    response_checksum_validation=configured["response_checksum"],
                    signature_version="s3v4",
                ),
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client: Any) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_scan_media_round_trip_through_s3(
    s3: Any, api: APIClient, platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes
) -> None:
    assert type(default_storage._setup() or default_storage._wrapped).__name__ == "S3Storage"
    platform.retention_days = 7
    platform.save()

    old = api.post(SCANS, {"media": upload("old.jpg", face_jpeg)}, format="multipart")
    assert old.status_code == 200, old.content
    new = api.post(SCANS, {"media": upload("new.jpg", no_face_jpeg)}, format="multipart").json()
    old_row = ScanMedia.objects.get(scan_id=old.json()["id"])
    new_row = ScanMedia.objects.get(scan_id=new["id"])
    assert _keys(s3) == {old_row.storage_key, new_row.storage_key}  # stored as objects in the bucket
    stored = s3.get_object(Bucket=BUCKET, Key=old_row.storage_key)["Body"].read()
    assert stored == face_jpeg
    acl = s3.get_object_acl(Bucket=BUCKET, Key=old_row.storage_key)["Grants"]
    assert all("AllUsers" not in str(grant.get("Grantee", {})) for grant in acl)  # private

    download = api.get(f"{SCANS}/{old.json()['id']}/media/0")
    assert download.status_code == 200
    body = b"".join(download.streaming_content) if download.streaming else download.content
    assert body == face_jpeg

    Scan.objects.filter(pk=old.json()["id"]).update(created_at=timezone.now() - timedelta(days=8))
    out = io.StringIO()
    call_command("purge_expired_media", stdout=out)
    assert "deleted 1 media" in out.getvalue()
    assert _keys(s3) == {new_row.storage_key}  # the object is gone from the bucket
    gone = api.get(f"{SCANS}/{old.json()['id']}/media/0")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "media_expired"
    assert api.get(f"{SCANS}/{new['id']}/media/0").status_code == 200
