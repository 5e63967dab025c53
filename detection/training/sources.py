"""Training data: folders of face images, their labels, subgroups and an identity-disjoint split."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from detection.faces import FaceDetector

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
RACES = {0: "white", 1: "black", 2: "asian", 3: "indian", 4: "other"}
GENDERS = {0: "male", 1: "female"}


@dataclass
class Sample:
    path: str
    label: int  # 0 real, 1 fake
    kind: str  # "real" | "gan" | "fake"
    group: str  # identity group used for the split
    race: str | None = None
    gender: str | None = None
    age: int | None = None
    box: tuple[float, float, float, float] | None = None
    landmarks: tuple[tuple[float, float], ...] | None = None
    source: str = ""  # the catalogued source folder (e.g. "faces-real/utkface"), else the folder's name
    source_east_asian: bool = False  # the catalog says everyone in the source is Korean/East Asian

    @property
    def east_asian(self) -> bool:
        """UTKFace's race label when it has one, else the source's catalogued people."""
        return self.race == "asian" if self.race is not None else self.source_east_asian

    @property
    def age_band(self) -> str | None:
        if self.age is None:
            return None
        for hi, name in ((12, "0-12"), (19, "13-19"), (39, "20-39"), (59, "40-59")):
            if self.age <= hi:
                return name
        return "60+"


def _utk_attributes(name: str) -> tuple[int | None, str | None, str | None, str | None]:
    """UTKFace names are ``age_gender_race_timestamp.jpg.chip.jpg``; some omit fields."""
    parts = name.split("_")
    try:
        age, gender, race = int(parts[0]), int(parts[1]), int(parts[2])
        stamp = parts[3].split(".")[0]
    except (IndexError, ValueError):
        return None, None, None, None
    return age, GENDERS.get(gender), RACES.get(race), stamp


def _dhash(path: Path) -> str:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def scan_folder(
    folder: Path, label: int, kind: str, source: str = "", east_asian: bool = False
) -> list[Sample]:
    """Every image below ``folder``. UTKFace carries no identity ids, so the identity group is
    the near-duplicate hash of the image (exact re-uploads of one photo share it) joined
    with the capture-time prefix and the labelled age/gender/race: photos of one person taken
    in one burst land in one group, and a group never spans train and validation."""
    samples = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        age, gender, race, stamp = _utk_attributes(path.name)
        if stamp is not None:
            group = f"utk:{age}_{gender}_{race}_{stamp[:12]}"
        else:
            group = f"{kind}:{path.stem}"
        samples.append(
            Sample(
                str(path),
                label,
                kind,
                group,
                race,
                gender,
                age,
                source=source or folder.name,
                source_east_asian=east_asian,
            )
        )
    # Merge groups of near-identical images (same dHash) so duplicates never cross the split.
    by_hash: dict[str, str] = {}
    for s in samples:
        h = _dhash(Path(s.path))
        s.group = by_hash.setdefault(h, s.group)
    return samples


def split_by_group(
    samples: list[Sample], val_fraction: float, seed: int
) -> tuple[list[Sample], list[Sample]]:
    """Deterministic split where every identity group falls entirely on one side."""

    def bucket(group: str) -> float:
        digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    train = [s for s in samples if bucket(s.group) >= val_fraction]
    val = [s for s in samples if bucket(s.group) < val_fraction]
    return train, val


def _detect_chunk(paths: list[str]) -> list[tuple[list[float], list[list[float]]] | None]:
    torch.set_num_threads(1)
    detector = FaceDetector(min_face_size=40)
    out = []
    for path in paths:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        faces = detector.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if bgr is not None else []
        out.append((list(faces[0].box), [list(p) for p in faces[0].landmarks]) if faces else None)
    return out


def attach_faces(samples: list[Sample], cache_file: Path, workers: int = 2) -> list[Sample]:
    """Find the main face of every sample once (cached by path) and drop images with no face."""
    cache: dict[str, object] = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    todo = [s.path for s in samples if s.path not in cache]
    if todo:
        chunks = [todo[i :: workers * 8] for i in range(workers * 8)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk, result in zip(chunks, pool.map(_detect_chunk, chunks), strict=True):
                cache.update(dict(zip(chunk, result, strict=True)))
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, cache_file)
    kept = []
    for s in samples:
        found = cache.get(s.path)
        if found:
            box, pts = found
            s.box = tuple(box)
            s.landmarks = tuple(tuple(p) for p in pts)
            kept.append(s)
    return kept


def save_manifest(samples: list[Sample], path: Path) -> None:
    path.write_text(json.dumps([asdict(s) for s in samples]))


def arrays_of(samples: list[Sample]) -> np.ndarray:
    return np.array([s.label for s in samples], dtype=np.int64)
