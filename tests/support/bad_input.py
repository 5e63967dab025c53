"""Shared by tests/hardening/test_bad_input.py: what is left behind by a request (rows of every model,
stored files, temporary files), a raw multipart encoder (hostile file names and non-UTF-8 text go
through unaltered, which Django's test client would clean), and what each endpoint answers for
valid-but-unusable media.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps

from detection.imaging import sniff_media
from tests.corpus.bad_inputs import MediaCase

HANG_GUARD_S = 10.0  # per request: a guard against hangs and runaway decoding, not a benchmark

# HTTP status of each code a media case may be refused with (moderation.core.errors, DRF's "invalid").
CODE_STATUS = {
    "empty_input": 400,
    "invalid": 400,
    "malformed_request": 400,
    "no_media": 400,
    "unsupported_media_type": 415,
    "image_too_large": 413,
    "corrupt_media": 422,
    "video_too_long": 422,
}


@dataclass(frozen=True)
class Leftovers:
    """What a request may leave behind: row counts of every model, stored files, temporary files."""

    rows: dict[str, int]
    stored: tuple[str, ...]
    temporary: tuple[str, ...]

    @classmethod
    def take(cls, media_root: Path, temp_dir: Path) -> Leftovers:
        rows = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
        stored = tuple(sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()))
        return cls(rows, stored if media_root.exists() else (), tuple(sorted(os.listdir(temp_dir))))

    def changes(self, later: Leftovers) -> dict[str, Any]:
        out: dict[str, Any] = {
            label: (n, later.rows.get(label)) for label, n in self.rows.items() if later.rows.get(label) != n
        }
        if later.stored != self.stored:
            out["stored files"] = sorted(set(later.stored) ^ set(self.stored))
        if later.temporary != self.temporary:
            out["temporary files"] = sorted(set(later.temporary) ^ set(self.temporary))
        return out


def multipart(
    fields: dict[str, str | bytes | list[str | bytes]], files: list[tuple[str, bytes, str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type; ``files``: (field, raw filename, type, data)."""
    boundary = "fakeme-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data = item.encode() if isinstance(item, str) else item
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(head.encode() + data + b"\r\n")
    for name, filename, content_type, data in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
        head += filename + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        parts.append(head + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def kind_of(case: MediaCase) -> str | None:
    """What FakeME takes the bytes for ("image", "video" or None), whatever the name says."""
    return sniff_media(case.data)


# Valid media an endpoint still cannot use: (status, code) by sniffed kind. The corpus's valid images
# are 160×136 without a face, its valid videos 64×48 (too small for a watermark or a generation).
VALID_OUTCOMES: dict[str, dict[str, set[tuple[int, str | None]]]] = {
    "scans": {"image": {(200, None)}, "video": {(202, None)}},
    "scans_async": {"image": {(202, None)}, "video": {(202, None)}},
    "watermark": {"image": {(200, None)}, "video": {(422, "image_too_small")}},
    "reports": {"image": {(201, None)}, "video": {(201, None)}},
    "generation_source": {"image": {(422, "no_face_in_source")}, "video": {(422, "source_not_image")}},
    "generation_target": {"image": {(422, "no_face_in_target")}, "video": {(422, "target_too_small")}},
    "known_fakes": {"image": {(201, None)}, "video": {(201, None)}},
    "protected_identities": {"image": {(422, "no_face")}, "video": {(422, "not_an_image")}},
    "console_watermark": {"image": {(200, None)}, "video": {(422, "image_too_small")}},
}

# Checks an endpoint makes before decoding, so a bad file of the wrong kind gets their code first.
KIND_CODES: dict[str, dict[str, str]] = {
    "generation_source": {"video": "source_not_image"},
    "protected_identities": {"video": "not_an_image"},
}
