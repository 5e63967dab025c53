"""The watermark benchmark's baseline: invisible-watermark's ``dwtDctSvd`` carrying the same 40 payload
bits, when that benchmark-only dependency is installed."""

from __future__ import annotations

import cv2
import numpy as np

from watermark.codec import PAYLOAD_BITS


class DwtDctSvd:
    """invisible-watermark's dwtDctSvd with the same 40 payload bits (it works on BGR arrays)."""

    name = "invisible-watermark dwtDctSvd"

    def __init__(self) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self._encoder_cls, self._decoder_cls = WatermarkEncoder, WatermarkDecoder
        self.refused = 0  # decodes refused (images under 256 px): counted as chance, 0.5

    @staticmethod
    def bits(payload: int) -> list[int]:
        return [(payload >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)]

    def embed(self, rgb: np.ndarray, payload: int) -> np.ndarray:
        encoder = self._encoder_cls()
        encoder.set_watermark("bits", self.bits(payload))
        bgr = encoder.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDctSvd")
        return cv2.cvtColor(np.clip(bgr, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB)

    def read(self, rgb: np.ndarray, payload: int) -> tuple[float, bool]:
        decoder = self._decoder_cls("bits", PAYLOAD_BITS)
        try:
            got = np.array(decoder.decode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDctSvd"), dtype=int)
        except RuntimeError:  # "image too small, should be larger than 256x256": nothing readable
            self.refused += 1
            return 0.5, False
        accuracy = float(np.mean(got == np.array(self.bits(payload))))
        return accuracy, accuracy == 1.0


def load_baseline() -> tuple[DwtDctSvd | None, str | None]:
    try:
        return DwtDctSvd(), None
    except ImportError as exc:
        return None, (
            f"invisible-watermark is not installed ({exc}); comparison skipped. Install it for the "
            "benchmark only: pip install --no-deps invisible-watermark==0.2.0 PyWavelets==1.9.0"
        )
