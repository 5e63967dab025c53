"""Media storage settings: local files by default, S3-compatible object storage by environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.core.files.storage import storages
default_storage = storages["default"]
config = default_storage.client_config if hasattr(default_storage, "client_config") else None
print(json.dumps({
    "backend": type(default_storage).__module__ + "." + type(default_storage).__name__,
    "bucket": getattr(default_storage, "bucket_name", None),
    "endpoint": getattr(default_storage, "endpoint_url", None),
    "region": getattr(default_storage, "region_name", None),
    "acl": getattr(default_storage, "default_acl", None),
    "overwrite": getattr(default_storage, "file_overwrite", None),
    "request_checksum": getattr(config, "request_checksum_calculation", None),
    "response_checksum": getattr(config, "response_checksum_validation", None),
}))
"""


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "moderation.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_local_storage_by_default() -> None:
    assert probe()["backend"] == "django.core.files.storage.filesystem.FileSystemStorage"


def test_s3_compatible_storage_by_settings() -> None:
    """No request is made: this only builds the storage as the settings describe it."""
    found = probe(
        AWS_STORAGE_BUCKET_NAME="fakeme-media",
        AWS_S3_ENDPOINT_URL="https://kr.object.ncloudstorage.com",
        AWS_S3_REGION_NAME="kr-standard",
        AWS_ACCESS_KEY_ID="id",
        AWS_SECRET_ACCESS_KEY="secret",
    )
    assert found["backend"] == "storages.backends.s3.S3Storage"
    assert found["bucket"] == "fakeme-media" and found["region"] == "kr-standard"
    assert found["endpoint"] == "https://kr.object.ncloudstorage.com"
    assert found["acl"] == "private" and found["overwrite"] is False
    assert found["request_checksum"] == found["response_checksum"] == "when_required"
