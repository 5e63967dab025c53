"""The generation API end to end with the real built-in engine on FFHQ faces (eager Celery):
create -> completed with a watermarked output that names the record; download by the owner only;
audit, known-fake bank and webhook; regenerate; a later scan of a re-encoded output is fake with the
generation id (by the mark, and by the bank when the mark cannot be read); the engines listing."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

import watermark
from generation import engines
from generation.models import Generation
from moderation.core.models import AuditEntry, Platform, WebhookDelivery
from moderation.provenance.models import BankEntry
from tests.support.scans import stored_files, upload
from watermark.ids import generation_id_for_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

GENERATIONS = "/api/v1/generations"
CONSENT = "Both people in these photos agreed in writing (form #12) to this swap for a demo."


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    # A webhook URL where nothing listens: the event is still recorded with its body.
    return make_platform(webhook_url="http://127.0.0.1:9/hooks", allowed_private_hosts=["127.0.0.1"])


@pytest.fixture
def api(platform: Platform, client_for: Callable[[Platform], APIClient]) -> APIClient:
    return client_for(platform)


def submit(api: APIClient, source: bytes, target: bytes, **fields: Any) -> Any:
    body = {"source": upload("source.jpg", source), "target": upload("target.jpg", target)}
    body |= {"user_id": "user-42", "consent": CONSENT} | fields
    return api.post(GENERATIONS, body, format="multipart")


def reencoded(data: bytes, scale: float = 0.75, quality: int = 70) -> bytes:
    """What a platform does to an upload: resize and JPEG (4:2:0) at a lower quality."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, subsampling=2)
    return out.getvalue()


def test_a_generation_completes_watermarked_and_only_its_platform_gets_it(
    api: APIClient,
    platform: Platform,
    client_for: Callable[[Platform], APIClient],
    make_platform: Callable[..., Platform],
    ffhq_bytes: Callable[[int], bytes],
    gen_env: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    source, target = ffhq_bytes(3), ffhq_bytes(4)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(api, source, target)
    assert response.status_code == 202, response.json()
    gen_id = response.json()["id"]
    assert response["Location"] == f"{GENERATIONS}/{gen_id}"
    body = api.get(response["Location"]).json()  # the task ran once the request's transaction committed
    assert body["status"] == "completed", body["error"]
    assert body["progress"]["percent"] == 100
    assert body["engine"] == "landmark" and body["user_id"] == "user-42" and body["consent"] == CONSENT
    assert (
        body["watermark"]["generation_id"]
        == gen_id
        == generation_id_for_payload(body["watermark"]["payload"])
    )
    assert body["output"]["url"] == f"{GENERATIONS}/{gen_id}/result" and body["output"]["kind"] == "image"

    row = Generation.objects.get(pk=body["watermark"]["payload"])
    assert 0 < row.pk < 2**40
    assert row.consent_statement == CONSENT and row.user_id == "user-42" and row.platform == platform
    assert row.source_sha256 == hashlib.sha256(source).hexdigest()
    assert row.target_sha256 == hashlib.sha256(target).hexdigest()
    assert row.result["engine_settings"]["blend"] == "multiband" and row.timings_ms["total"] > 0

    # The owner downloads it; the file carries this generation's number under our key.
    download = api.get(body["output"]["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == row.output_sha256
    found = watermark.recover_bytes(data, [settings.WATERMARK_KEY])
    assert found.found and generation_id_for_payload(found.payload) == gen_id
    # The swap changed the target's face and left the frame's size alone.
    target_img = Image.open(io.BytesIO(target))
    output_img = Image.open(io.BytesIO(data))
    assert output_img.size == target_img.size and data != target

    # Another platform cannot see, download or regenerate it (404, like a missing one).
    stranger = client_for(make_platform())
    assert stranger.get(f"{GENERATIONS}/{gen_id}").status_code == 404
    assert stranger.get(f"{GENERATIONS}/{gen_id}/result").json()["error"]["code"] == "not_found"
    assert stranger.post(f"{GENERATIONS}/{gen_id}/regenerate", {}, format="json").status_code == 404
    assert stranger.get(GENERATIONS).json()["results"] == []
    assert api.get(GENERATIONS).json()["results"][0]["id"] == gen_id

    # Audited, in the known-fake bank, and the platform's webhook was told.
    entry = AuditEntry.objects.get(action="generation.create")
    assert entry.target_id == gen_id and entry.platform == platform and CONSENT[:50] in entry.description
    assert entry.after["consent"] == CONSENT and entry.after["user_id"] == "user-42"
    bank = BankEntry.objects.get(source=BankEntry.Source.GENERATION)
    assert bank.bank == BankEntry.Bank.KNOWN_FAKE and bank.platform is None
    assert bank.sha256 == row.output_sha256 and bank.pdq == row.output_pdq and gen_id in bank.note
    delivery = WebhookDelivery.objects.get(event_type="generation.completed")
    assert f'"id":"{gen_id}"' in delivery.body and delivery.platform == platform
    assert len(stored_files(gen_env)) == 3  # source, target, output


def test_regenerate_and_a_later_scan_of_a_reencoded_output(
    api: APIClient,
    platform: Platform,
    ffhq_bytes: Callable[[int], bytes],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first_id = submit(api, ffhq_bytes(10), ffhq_bytes(11)).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        second_response = api.post(f"{GENERATIONS}/{first_id}/regenerate", {}, format="json")
    first = api.get(f"{GENERATIONS}/{first_id}").json()
    assert first["status"] == "completed", first["error"]
    assert second_response.status_code == 202
    second = api.get(second_response["Location"]).json()
    assert second["status"] == "completed", second["error"]
    assert second["id"] != first["id"] and second["parent_id"] == first["id"]
    assert second["seed"] != first["seed"]
    # Same inputs, same requester and consent; the new seed drew other engine settings.
    assert second["source"] == first["source"] and second["target"] == first["target"]
    assert second["user_id"] == first["user_id"] and second["consent"] == first["consent"]
    assert second["result"]["engine_settings"] != first["result"]["engine_settings"]
    assert (
        Generation.objects.get(pk=second["watermark"]["payload"]).parent_id == first["watermark"]["payload"]
    )
    assert AuditEntry.objects.filter(action="generation.create").count() == 2

    # A platform re-encodes the regenerated output (resize 0.75, JPEG 70) and scans it later.
    output = b"".join(api.get(second["output"]["url"]).streaming_content)
    copy = reencoded(output)
    platform.threshold = 1.0  # no classifier score reaches it: only the mark or the bank can say fake
    platform.save()
    scan = api.post("/api/v1/scans", {"media": upload("post.jpg", copy)}, format="multipart").json()
    assert scan["verdict"] == "fake" and scan["decided_by"] == "watermark"
    assert scan["reasons"] == ["fakeme_watermark"]
    assert scan["watermark"]["generation_id"] == second["id"]
    # Both variants are in the bank, and near enough in PDQ that the copy matches each of them.
    assert {m["source"] for m in scan["known_deepfake_matches"]} == {"generation"}

    # A copy whose mark cannot be read (here: scanned under another key) is still caught by the bank.
    settings.WATERMARK_KEY = b"a-key-that-never-marked-anything-0123"
    settings.WATERMARK_PREVIOUS_KEYS = []
    scan = api.post("/api/v1/scans", {"media": upload("post.jpg", copy)}, format="multipart").json()
    assert scan["watermark"]["found"] is False
    assert (
        scan["verdict"] == "fake" and scan["decided_by"] == "bank" and scan["reasons"] == ["known_deepfake"]
    )
    match = scan["known_deepfake_matches"][0]
    assert match["source"] == "generation" and match["distance"] <= settings.FAKEME_SCANS["PDQ_MAX_DISTANCE"]


def test_engines_listing_says_why_simswap_is_unavailable(
    api: APIClient, settings: Any, tmp_path: Any
) -> None:
    body = api.get(f"{GENERATIONS}/engines").json()
    by_name = {e["name"]: e for e in body["engines"]}
    assert by_name["landmark"]["available"] is True and by_name["landmark"]["default"] is True
    simswap = by_name["simswap"]
    assert simswap["available"] is False and simswap["default"] is False
    assert "not configured" in simswap["reason"] and "CC BY-NC" in simswap["reason"]
    assert body["default"] == "landmark"

    missing = tmp_path / "latest_net_G.pth"
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": str(missing), "ARCFACE": str(tmp_path / "arcface.tar"), "SIZE": 224},
    }
    simswap = {e["name"]: e for e in api.get(f"{GENERATIONS}/engines").json()["engines"]}["simswap"]
    assert simswap["available"] is False and str(missing) in simswap["reason"]


def test_seed_draws_only_the_options_left_unset() -> None:
    a = engines.engine_settings("landmark", {}, seed=1)
    assert a == engines.engine_settings("landmark", {}, seed=1)  # reproducible
    assert a != engines.engine_settings("landmark", {}, seed=2)
    low, high = engines.LANDMARK_SEEDED["inner_shape"]
    assert low <= a["inner_shape"] <= high
    fixed = engines.engine_settings("landmark", {"inner_shape": 0.5, "jaw_shape": 0.0}, seed=2)
    assert fixed["inner_shape"] == 0.5 and fixed["jaw_shape"] == 0.0


def test_the_engines_stay_plain_python() -> None:
    """The Django app lives beside the engines; importing the engines must not pull Django in."""
    code = (
        "import sys, generation, generation.landmark, generation.simswap; "
        "roots = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(roots & {'django', 'rest_framework', 'moderation', 'reports'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "[]"
