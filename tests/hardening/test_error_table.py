"""One table maps every engine error code to its HTTP status (``moderation.core.errors.STATUS_BY_CODE``),
and every surface answers with it: the API's exception handler, the media checks, the watermark
recovery endpoint, the generation service and the console's previews and thumbnails. An image over the
pixel limit is 413 in the console as in the API (the console's previews used to say 422)."""

from __future__ import annotations

from typing import Any

import pytest

import detection.errors
import generation.landmark
import generation.landmark.errors
import generation.simswap.errors
import watermark
import watermark.errors
from detection.errors import (
    DetectionError,
    EngineError,
    ImageTooLarge,
    InvalidImage,
    SimSwapError,
    SwapError,
    WatermarkError,
)
from generation.models import MediaKind
from generation.services.errors import engine_error
from moderation.core.api.errors import exception_handler
from moderation.core.errors import STATUS_BY_CODE, ApplicationError, http_status
from moderation.core.media import media_check, media_from_bytes
from moderation.provenance import watermarks
from moderation.scans.models import ScanMedia
from reports.console import access
from reports.console.views import generations as console_generations
from reports.console.views import scans as console_scans
from tests.corpus.bad_inputs import png_raw

ENGINE_ERROR_MODULES = (
    detection.errors,
    watermark.errors,
    generation.landmark.errors,
    generation.simswap.errors,
)


def _engine_error_classes() -> list[type[EngineError]]:
    seen: list[type[EngineError]] = []
    todo: list[type[EngineError]] = [EngineError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _oversized_png() -> bytes:
    """A PNG whose header declares 8000×8000 pixels (over every limit), 45 bytes long."""
    return png_raw(8000, 8000, 8, 2, None, idat=False)


def test_every_engine_error_code_has_a_status_in_the_table() -> None:
    classes = _engine_error_classes()
    # Every class of the engines' errors modules is in the hierarchy the table covers.
    for module in ENGINE_ERROR_MODULES:
        declared = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Exception)]
        assert declared and all(issubclass(cls, EngineError) for cls in declared), module.__name__
        assert set(declared) <= set(classes), module.__name__
    missing = sorted({cls.code for cls in classes} - set(STATUS_BY_CODE))
    assert not missing, f"engine error codes without an HTTP status: {missing}"
    assert all(400 <= status < 600 for status in STATUS_BY_CODE.values())


def test_table_statuses() -> None:
    assert http_status("image_too_large") == 413
    assert http_status("empty_input") == 400
    assert http_status("unsupported_media_type") == 415
    assert http_status("model_unavailable") == http_status("models_missing") == 503
    assert http_status("simswap_unavailable") == http_status("invalid_key") == 503
    assert http_status("watermark_required") == 500
    assert http_status("corrupt_media") == http_status("no_face_in_target") == 422
    assert http_status("a_code_of_no_engine") == 422


def test_invalid_image_is_one_class_in_every_family() -> None:
    exported = [watermark.InvalidImage, generation.landmark.InvalidImage]
    exported += [generation.simswap.errors.InvalidImage, watermark.errors.InvalidImage]
    assert all(cls is InvalidImage for cls in exported)
    # Each family's ``except`` still catches it.
    for family in (WatermarkError, SwapError, SimSwapError, EngineError):
        assert issubclass(InvalidImage, family)
        with pytest.raises(family):
            raise InvalidImage("The target image is too small.")
    assert not issubclass(InvalidImage, DetectionError)
    assert InvalidImage("x").to_dict() == {"code": "invalid_image", "message": "x"}


def _api_status(exc: Exception) -> int:
    response = exception_handler(exc, {})
    assert response is not None
    assert response.data["error"]["code"] == getattr(exc, "code", None)
    return response.status_code


@pytest.mark.parametrize("cls", _engine_error_classes(), ids=lambda cls: cls.__name__)
def test_api_and_console_answer_each_engine_code_with_the_table_status(cls: type[EngineError]) -> None:
    exc = cls()
    expected = STATUS_BY_CODE[cls.code]
    assert _api_status(exc) == expected
    assert access.media_error(exc).status == expected
    assert engine_error(exc).status == expected


def test_an_oversized_image_is_413_in_the_api_and_in_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _oversized_png()
    statuses: dict[str, int] = {}

    # The API: the engine's error through the exception handler, and the intake check of queued media.
    statuses["api handler"] = _api_status(ImageTooLarge())
    with pytest.raises(ApplicationError) as intake:
        media_check(media_from_bytes(data, original_name="huge.png"))
    assert intake.value.code == "image_too_large"
    statuses["api intake"] = intake.value.status

    # The watermark recovery endpoint: the decoder's code, with the status it has everywhere else.
    with pytest.raises(ApplicationError) as recovery:
        watermarks.watermark_recover_media(media_from_bytes(data, original_name="huge.png"))
    assert recovery.value.code == "image_too_large"
    statuses["watermark recovery"] = recovery.value.status

    # The console: a scan's PNG preview and a generation's thumbnail of a stored oversized image.
    def stored(_key: str) -> bytes:
        return data

    monkeypatch.setattr(console_scans, "media_read", stored)
    monkeypatch.setattr(console_generations, "media_read", stored)
    with pytest.raises(ApplicationError) as preview:
        console_scans._png_preview(ScanMedia(storage_key="scans/huge.png", format="png"))
    with pytest.raises(ApplicationError) as thumbnail:
        console_generations._thumbnail("generations/huge.png", MediaKind.IMAGE, "png")
    for raised in (preview, thumbnail):
        assert raised.value.code == "image_too_large"
    statuses["console preview"] = preview.value.status
    statuses["console thumbnail"] = thumbnail.value.status

    assert set(statuses.values()) == {413}, statuses


def test_media_error_keeps_code_and_message() -> None:
    error: Any = access.media_error(ImageTooLarge("The image is 8000×8000."))
    assert (error.code, error.message, error.status) == ("image_too_large", "The image is 8000×8000.", 413)
