"""The load benchmark's media: small face photos (FFHQ from ``../shared/data``, else crops of
scikit-image's astronaut) and a 6 s mp4v clip of the astronaut's head."""

from __future__ import annotations

from pathlib import Path

from bench.common import ROOT

FACES = ROOT.parent / "shared" / "data" / "faces-real" / "ffhq-512"


def face_images(count: int) -> tuple[list[bytes], str]:
    """FFHQ photos from ../shared/data (512 px, one face each), else crops of scikit-image's astronaut."""
    if FACES.is_dir():
        paths = sorted(FACES.glob("*.jpg"))[:count]
        if paths:
            return [p.read_bytes() for p in paths], f"{len(paths)} FFHQ photos, 512 px (../shared/data)"
    import cv2
    from skimage import data

    rgb = data.astronaut()
    images = []
    for i in range(count):
        crop = rgb[i % 40 : 400 + i % 40, 60 + i % 50 : 460 + i % 50]
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        images.append(jpeg.tobytes())
    return images, f"{count} crops of scikit-image's astronaut, 400 px"


def face_video(path: Path) -> bytes:
    """6 s at 4 fps, 320x240, mp4v: the astronaut's head sliding across (12 frames sampled at 2 fps)."""
    import cv2
    import numpy as np
    from skimage import data

    head = cv2.resize(data.astronaut()[0:300, 100:400], (120, 120), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 4.0, (320, 240))
    for i in range(24):
        frame = np.full((240, 320, 3), 90, np.uint8)
        x = 20 + i * 7
        frame[60:180, x : x + 120] = head
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()
