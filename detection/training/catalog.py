"""The data catalog: ``SOURCES.tsv`` beside the data folders says each folder's label and role.

``train`` folders may be trained on; ``dev-eval`` folders exist only to measure how the model does
on sources and methods it never saw, so training refuses them by name. The role is always read
from the catalog, never guessed from a folder name.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CATALOG_NAME = "SOURCES.tsv"
ROLES = ("train", "dev-eval")
EAST_ASIAN_PEOPLE = {"korean", "east_asian"}


class CatalogError(ValueError):
    """A folder the catalog forbids for this use, or a catalog that cannot be read."""


@dataclass(frozen=True)
class Source:
    folder: str  # relative to the catalog's folder, e.g. "faces-real/utkface"
    label: int  # 0 real, 1 fake
    method: str
    kind: str  # "image" | "video"
    role: str
    count: int
    people: str
    style: str
    root: Path  # the catalog's folder

    @property
    def path(self) -> Path:
        return self.root / self.folder

    @property
    def name(self) -> str:
        return self.folder

    @property
    def east_asian(self) -> bool:
        """Every person in it is Korean or East Asian by the catalog (a mixed source is not)."""
        parts = {p.strip() for p in self.people.split("/") if p.strip()}
        return bool(parts) and parts <= EAST_ASIAN_PEOPLE


@dataclass(frozen=True)
class Catalog:
    root: Path
    sources: tuple[Source, ...]

    @classmethod
    def read(cls, path: str | Path) -> Catalog:
        path = Path(path)
        if path.is_dir():
            path = path / CATALOG_NAME
        if not path.is_file():
            raise CatalogError(f"no data catalog at {path}")
        root = path.parent.resolve()
        rows = []
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                role = (row.get("role") or "").strip()
                if role not in ROLES:
                    raise CatalogError(f"{path}: folder {row.get('folder')!r} has unknown role {role!r}")
                label = (row.get("label") or "").strip()
                if label not in ("real", "fake"):
                    raise CatalogError(f"{path}: folder {row.get('folder')!r} has unknown label {label!r}")
                count = (row.get("n") or "0").strip()
                rows.append(
                    Source(
                        folder=row["folder"].strip().strip("/"),
                        label=int(label == "fake"),
                        method=(row.get("method") or "").strip(),
                        kind=(row.get("kind") or "image").strip(),
                        role=role,
                        count=int(count) if count.isdigit() else 0,
                        people=(row.get("people") or "").strip(),
                        style=(row.get("style") or "").strip(),
                        root=root,
                    )
                )
        return cls(root, tuple(rows))

    def select(self, *, role: str, kind: str = "image", label: int | None = None) -> list[Source]:
        return [
            s
            for s in self.sources
            if s.role == role and s.kind == kind and (label is None or s.label == label) and s.path.is_dir()
        ]

    def source_of(self, folder: str | Path) -> Source | None:
        """The catalogued source that holds ``folder`` (the folder itself or one of its parents)."""
        target = Path(folder).resolve()
        best: Source | None = None
        for s in self.sources:
            where = s.path.resolve()
            if (target == where or where in target.parents) and (
                best is None or len(s.folder) > len(best.folder)
            ):
                best = s
        return best


def find_catalog(folder: str | Path) -> Catalog | None:
    """The catalog of the data tree ``folder`` lies in: the nearest ``SOURCES.tsv`` above it."""
    here = Path(folder).resolve()
    for parent in (here, *here.parents):
        candidate = parent / CATALOG_NAME
        if candidate.is_file():
            return Catalog.read(candidate)
    return None


def check_trainable(folders: list[str]) -> None:
    """Refuse any folder its catalog marks ``dev-eval`` (or that holds such a folder)."""
    for folder in folders:
        catalog = find_catalog(folder)
        if catalog is None:
            continue  # a platform's own folder outside any catalogued tree
        source = catalog.source_of(folder)
        if source is not None and source.role != "train":
            raise CatalogError(
                f"{folder} is the {source.role!r} source {source.folder!r} in {catalog.root / CATALOG_NAME}: "
                "it is for evaluation only and must never be trained on"
            )
        target = Path(folder).resolve()
        inside = [s for s in catalog.sources if s.role != "train" and target in s.path.resolve().parents]
        if inside:
            raise CatalogError(
                f"{folder} holds the {inside[0].role!r} source {inside[0].folder!r}: "
                "evaluation-only data must never be trained on (name the train folders instead)"
            )
