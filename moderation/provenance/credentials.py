"""Content Credentials in the service layer: the trust anchors and signing identity from settings.

Reading never fails a scan (an unreadable manifest is reported as broken); signing uses the
configured certificate, else a local self-signed one made on first use (``make run``).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings

from watermark.credentials import SigningIdentity, read_credentials
from watermark.identities import local_authority

logger = logging.getLogger(__name__)
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _anchors_of(path: str, mtime_ns: int) -> str:
    return Path(path).read_text()


def trust_anchors() -> str | None:
    """The PEM bundle of ``C2PA_TRUST_ANCHORS_FILE``, read once per version of the file (every
    scanned medium needs it)."""
    path = settings.C2PA_TRUST_ANCHORS_FILE
    return _anchors_of(str(path), Path(path).stat().st_mtime_ns) if path else None


def credentials_check(data: bytes | BinaryIO, fmt: str) -> dict[str, Any]:
    """The manifest summary stored with a scanned medium (``watermark.credentials.Credentials``)."""
    return read_credentials(data, fmt, trust_anchors=trust_anchors()).to_dict()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def signing_identity() -> SigningIdentity:
    """The configured certificate and key, else the local ones (made once, then reused)."""
    cert, key = settings.C2PA_SIGNING_CERT_FILE, settings.C2PA_SIGNING_KEY_FILE
    if cert and key:
        return SigningIdentity(Path(cert).read_bytes(), Path(key).read_bytes())
    folder = Path(settings.C2PA_LOCAL_DIR)
    chain, private, anchor = folder / "signer-chain.pem", folder / "signer-key.pem", folder / "local-ca.pem"
    with _LOCK:
        if not (chain.is_file() and private.is_file()):
            folder.mkdir(parents=True, exist_ok=True)
            made = local_authority()
            _write_private(private, made.identity.key_pem)
            chain.write_bytes(made.identity.cert_chain_pem)
            anchor.write_bytes(made.ca_pem)
            logger.warning(
                "Content Credentials: made a local self-signed signing certificate in %s (its manifests "
                "read as valid, trusted only where %s is an anchor); set C2PA_SIGNING_CERT_FILE and "
                "C2PA_SIGNING_KEY_FILE in production",
                folder,
                anchor,
            )
    return SigningIdentity(chain.read_bytes(), private.read_bytes())
