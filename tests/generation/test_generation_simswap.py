"""SimSwap through the service, with checkpoints in the official layout (random weights: the official
ones are CC BY-NC and not here): once configured it is listed as available, ``auto`` picks it, and its
output carries the generation's mark like the built-in engine's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

import watermark
from moderation.core.models import Platform
from tests.generation.simswap_media import (
    random_arcface,
    random_generator,
    save_generator_checkpoint,
    save_official_arcface,
)
from tests.support.scans import upload
from watermark.ids import generation_id_for_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("simswap")
    generator = save_generator_checkpoint(random_generator(224, seed=1), folder / "latest_net_G.pth")
    arcface = save_official_arcface(random_arcface(seed=2), folder / "arcface_checkpoint.tar")
    return generator, arcface


def test_a_configured_simswap_is_used_and_its_output_is_marked(
    checkpoints: tuple[Path, Path],
    make_platform: Callable[..., Platform],
    client_for: Callable[[Platform], APIClient],
    ffhq_bytes: Callable[[int], bytes],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    generator, arcface = checkpoints
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": str(generator), "ARCFACE": str(arcface), "SIZE": 224},
    }
    api = client_for(make_platform())
    listing = api.get("/api/v1/generations/engines").json()
    simswap = {e["name"]: e for e in listing["engines"]}["simswap"]
    assert simswap["available"] is True and simswap["default"] is True, simswap["reason"]

    body = {"source": upload("s.jpg", ffhq_bytes(3)), "target": upload("t.jpg", ffhq_bytes(4))}
    body |= {"user_id": "u-5", "consent": "Both agreed.", "options": '{"all_faces": true}'}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/generations", body, format="multipart")
    assert response.status_code == 202, response.json()
    result = api.get(response["Location"]).json()
    assert result["status"] == "completed", result["error"]
    assert result["engine"] == "simswap" and result["result"]["engine_settings"] == {"all_faces": True}
    data = b"".join(api.get(result["output"]["url"]).streaming_content)
    found = watermark.recover_bytes(data, [settings.WATERMARK_KEY])
    assert found.found and generation_id_for_payload(found.payload) == result["id"]
