"""Contact sheet of the built-in engine's swaps: legacy pipeline beside the seamless one.

24 FFHQ pairs (train-role photos from ``../shared/data``): the first ``len(CHOSEN)`` were picked by
eye for what issue 23 is about (glasses, sunglasses, hands, hats and hair on the target, a hand or
long hair on the source), the rest are drawn at random (seeded) from pairs of different photos.
Each tile: the target (top) and the source (bottom) small on the left, then the legacy swap and the
seamless swap of the target's face. Outputs are the engine's, watermarked (``swap_image``). Pairs
the seamless pipeline refuses (``pose_mismatch``) are listed and replaced.

    python -m bench.contact_sheet                    # writes docs/generation-contact-sheet.jpg
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from bench.common import ROOT
from bench.generate_inputs import DATA, KEY, NEW, OLD, PAYLOAD, engines_under_test, read_rgb
from generation.landmark import SwapError, WatermarkSpec

DEFAULT_OUT = ROOT / "docs" / "generation-contact-sheet.jpg"
FFHQ = DATA / "faces-real" / "ffhq-512"
# (source, target): targets with glasses and a hand (173), sunglasses and a hat (107), thin
# glasses (105, 21), a woolly hat (30), a bonnet (4); sources with a hand at the chin (109) and
# long hair (41).
CHOSEN = [(111, 173), (106, 107), (104, 105), (20, 21), (108, 109), (31, 30), (3, 4), (40, 41)]
COUNT, COLUMNS = 24, 3
TILE, THUMB = 256, 128
SEED = 23


def pairs(seed: int) -> Iterator[tuple[int, int]]:
    """The chosen pairs, then random pairs of different photos not used yet."""
    yield from CHOSEN
    used = {n for pair in CHOSEN for n in pair}
    numbers = [int(p.stem) for p in sorted(FFHQ.glob("*.jpg")) if int(p.stem) not in used]
    order = np.random.default_rng(seed).permutation(len(numbers))
    for i in range(0, len(order) - 1, 2):
        yield numbers[order[i]], numbers[order[i + 1]]


def face_crop(rgb: np.ndarray, box: tuple[float, float, float, float], side: int) -> np.ndarray:
    """A square around the face (1.7 × its box), resized to ``side``."""
    x1, y1, x2, y2 = box
    half = 0.85 * max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * (y2 - y1)
    h, w = rgb.shape[:2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1_, y1_ = int(min(w, cx + half)), int(min(h, cy + half))
    return cv2.resize(rgb[y0:y1_, x0:x1_], (side, side), interpolation=cv2.INTER_AREA)


def tile(source: np.ndarray, target: np.ndarray, old: np.ndarray, new: np.ndarray, box: tuple) -> np.ndarray:
    thumbs = np.concatenate(
        [
            cv2.resize(target, (THUMB, THUMB), interpolation=cv2.INTER_AREA),
            cv2.resize(source, (THUMB, THUMB)),
        ],
        axis=0,
    )
    return np.concatenate([thumbs, face_crop(old, box, TILE), face_crop(new, box, TILE)], axis=1)


def header(width: int) -> np.ndarray:
    bar = np.full((28, width, 3), 255, np.uint8)
    for c in range(COLUMNS):
        x = c * (THUMB + 2 * TILE)
        for text, dx in (
            ("target / source", 4),
            (f"{OLD} (before)", THUMB + 6),
            (f"{NEW} (now)", THUMB + TILE + 6),
        ):
            cv2.putText(bar, text, (x + dx, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.contact_sheet", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--quality", type=int, default=85, help="JPEG quality")
    args = p.parse_args(argv)
    engines = engines_under_test()
    spec = WatermarkSpec(PAYLOAD, KEY)
    tiles, refused = [], []
    for s, t in pairs(args.seed):
        if len(tiles) == COUNT:
            break
        source, target = read_rgb(FFHQ / f"{s}.jpg"), read_rgb(FFHQ / f"{t}.jpg")
        try:
            new = engines[NEW].swap_image(source, target, watermark=spec)
            old = engines[OLD].swap_image(source, target, watermark=spec)
        except SwapError as exc:
            refused.append(f"{s}→{t}: {exc.code}")
            continue
        assert new.target_box is not None
        tiles.append(tile(source, target, old.image, new.image, new.target_box.as_tuple()))
        print(
            f"  {len(tiles)}/{COUNT}: FFHQ {s} → {t}{' (source mirrored)' if new.mirrored else ''}",
            flush=True,
        )
    rows = [np.concatenate(tiles[i : i + COLUMNS], axis=1) for i in range(0, len(tiles), COLUMNS)]
    sheet = np.concatenate([header(rows[0].shape[1]), *rows], axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, args.quality]
    )
    assert ok
    args.out.write_bytes(data.tobytes())
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]}, {len(data) / 1e6:.2f} MB)")
    print("refused: " + (", ".join(refused) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
