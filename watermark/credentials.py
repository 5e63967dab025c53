"""Content Credentials (C2PA): read the signed provenance manifest of a file, and sign our own.

The invisible watermark survives re-encoding; a C2PA manifest does not, but when present it is a
signed statement of how a file was made (e.g. ``digitalSourceType`` ``trainedAlgorithmicMedia``:
made by a generative model). Reading is offline: no remote manifests, no OCSP; trust comes only from
the anchors the caller passes (PEM). Plain Python over the official ``c2pa-python`` bindings (pinned
in requirements.txt: their API moves between releases).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

import c2pa

# The IPTC digital source types that mean "made or changed by a generative model".
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = frozenset(
    IPTC + name
    for name in (
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicallyEnhanced",
        "compositeSynthetic",
    )
)
CREATED = IPTC + "trainedAlgorithmicMedia"
# Sniffed format (detection.imaging) -> the MIME type the C2PA reader takes.
MIME_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
}
SOFT_BINDING_ALG = "com.fakeme.watermark.v1"
_OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}

NO_MANIFEST = "no_manifest"
UNSUPPORTED_FORMAT = "format_without_manifest_support"


@dataclass
class Credentials:
    """What a file's manifest says. ``state``: ``invalid`` (hashes or signature do not match:
    tampered), ``valid`` (intact, signer not trusted here) or ``trusted`` (intact, signer chains
    to a configured anchor); None without a manifest (``reason`` says why)."""

    present: bool
    state: str | None = None
    reason: str | None = None
    signer: str | None = None
    issuer: str | None = None
    claim_generator: str | None = None
    signed_at: str | None = None
    actions: list[dict[str, str]] = field(default_factory=list)
    ingredients: int = 0
    soft_binding: str | None = None  # our watermark's payload (base64) when the manifest carries it
    failures: list[str] = field(default_factory=list)  # validation codes that failed

    @property
    def ai_generated(self) -> bool:
        """An intact manifest declares generative AI in one of its actions."""
        return self.state in ("valid", "trusted") and any(
            a.get("digitalSourceType") in AI_SOURCE_TYPES for a in self.actions
        )

    @property
    def tampered(self) -> bool:
        return self.present and self.state == "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ai_generated": self.ai_generated, "tampered": self.tampered}


def _context(trust_anchors: str | None, *, thumbnail: bool = True) -> c2pa.Context:
    settings: dict[str, Any] = {"verify": {**_OFFLINE, "verify_trust": bool(trust_anchors)}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    if not thumbnail:
        settings["builder"] = {"thumbnail": {"enabled": False}}
    return c2pa.Context.from_dict(settings)


def _actions(manifest: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                row = {"action": str(action.get("action", ""))}
                if action.get("digitalSourceType"):
                    row["digitalSourceType"] = str(action["digitalSourceType"])
                out.append(row)
    return out


def _soft_binding(manifest: dict[str, Any]) -> str | None:
    for assertion in manifest.get("assertions") or []:
        data = assertion.get("data") or {}
        if assertion.get("label") == "c2pa.soft-binding" and data.get("alg") == SOFT_BINDING_ALG:
            blocks = data.get("blocks") or []
            return str(blocks[0].get("value")) if blocks else None
    return None


def _failures(results: dict[str, Any] | None) -> list[str]:
    active = (results or {}).get("activeManifest") or {}
    return sorted({str(f.get("code")) for f in active.get("failure") or [] if f.get("code")})


def read_credentials(data: bytes | BinaryIO, fmt: str, *, trust_anchors: str | None = None) -> Credentials:
    """The manifest of ``data`` (a file's bytes, or the open file: a video need not be held in memory)
    of sniffed format ``fmt``; never raises for the file's sake."""
    mime = MIME_TYPES.get(fmt)
    if mime is None:
        return Credentials(present=False, reason=UNSUPPORTED_FORMAT)
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with c2pa.Reader(mime, stream, context=_context(trust_anchors)) as reader:
            manifest = reader.get_active_manifest() or {}
            state = (reader.get_validation_state() or "").lower() or None
            results = reader.get_validation_results()
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc):
            return Credentials(present=False, reason=NO_MANIFEST)
        # A manifest store that cannot even be parsed is a broken one: present, not intact.
        return Credentials(present=True, state="invalid", failures=[type(exc).__name__.lstrip("_")])
    signature = manifest.get("signature_info") or {}
    generators = manifest.get("claim_generator_info") or []
    generator = (
        " ".join(str(generators[0].get(k, "")) for k in ("name", "version")).strip() if generators else None
    )
    return Credentials(
        present=True,
        state=state,
        signer=signature.get("common_name"),
        issuer=signature.get("issuer"),
        claim_generator=generator or manifest.get("claim_generator"),
        signed_at=signature.get("time"),
        actions=_actions(manifest),
        ingredients=len(manifest.get("ingredients") or []),
        soft_binding=_soft_binding(manifest),
        failures=_failures(results),
    )


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (leaf first) and its PEM private key (ES256: a P-256 key)."""

    cert_chain_pem: bytes
    key_pem: bytes


def sign_generated(
    data: bytes,
    fmt: str,
    identity: SigningIdentity,
    *,
    generator: str,
    version: str,
    edited: bool,
    watermark_payload: bytes,
    title: str = "",
) -> bytes:
    """``data`` with a signed manifest: created (or edited, for a swap into a photo) by a generative
    model, FakeME's generator and version, and the invisible watermark as its soft binding. The
    pixels are untouched (the manifest goes into the container), so the watermark stays readable."""
    mime = MIME_TYPES.get(fmt)
    if mime is None:
        raise ValueError(f"Content Credentials cannot be embedded in {fmt!r} files")
    agent = {"name": generator, "version": version}
    # C2PA wants "created" (or "opened") first; a face swapped into a photo is also "edited".
    actions = [{"action": "c2pa.created", "digitalSourceType": CREATED, "softwareAgent": agent}]
    if edited:
        actions.append({"action": "c2pa.edited", "digitalSourceType": CREATED, "softwareAgent": agent})
    manifest = {
        "claim_generator_info": [{"name": generator, "version": version}],
        "title": title or f"generated.{fmt}",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": actions},
            },
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": SOFT_BINDING_ALG,
                    "blocks": [{"scope": {}, "value": base64.b64encode(watermark_payload).decode("ascii")}],
                },
            },
        ],
    }
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(b"es256", identity.cert_chain_pem, identity.key_pem, None)
    )
    out = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest), context=_context(None, thumbnail=False)) as builder:
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()
