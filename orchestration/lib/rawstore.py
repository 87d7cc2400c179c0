"""Immutable raw files, one folder per vintage: raw/<source>/<period>/<retrieved>_<sha12>/<file> + manifest.json.

A vintage counts only once its manifest exists (written last, atomically). A download identical to a vintage
already held (same sha256) adds nothing. Files are made read-only; nothing here ever rewrites one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration.lib.errors import SourceError
from orchestration.lib.http import Download

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Vintage:
    source: str
    period: str
    file_name: str
    url: str
    sha256: str
    size_bytes: int
    retrieved_at: str
    headers: dict[str, str]
    directory: str
    # What the source's listing said of the file when it was fetched (size, last update), if it has one.
    remote: dict[str, str | int | None] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.directory) / self.file_name


def _period_dir(raw_dir: Path, source: str, period: str) -> Path:
    return raw_dir / source / period


def list_vintages(raw_dir: Path, source: str, period: str) -> list[Vintage]:
    """Complete vintages of a period, oldest first. Folders without a manifest are leftovers of a crash."""
    base = _period_dir(raw_dir, source, period)
    if not base.is_dir():
        return []
    vintages = []
    for manifest in sorted(base.glob(f"*/{MANIFEST}")):
        data = json.loads(manifest.read_text())
        data["directory"] = str(manifest.parent)
        vintages.append(Vintage(**data))
    return sorted(vintages, key=lambda v: v.retrieved_at)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(vintage: Vintage) -> None:
    actual = sha256_of(vintage.path)
    if actual != vintage.sha256:
        raise SourceError(
            f"{vintage.source} {vintage.period} {vintage.file_name}: raw file at {vintage.path} has sha256 "
            f"{actual}, its manifest says {vintage.sha256}; the raw store was altered"
        )


def store(
    download: Download,
    raw_dir: Path,
    *,
    source: str,
    period: str,
    file_name: str,
    remote: dict[str, str | int | None] | None = None,
) -> tuple[Vintage, bool]:
    """Keep `download` as a new vintage unless an identical one is held. Returns (vintage, is_new).
    `remote` (the listing's size and last update) is recorded with a new vintage, or added to an identical one
    so that the next release check can skip the download."""
    for existing in list_vintages(raw_dir, source, period):
        if existing.sha256 == download.sha256:
            download.path.unlink(missing_ok=True)
            if remote and remote != existing.remote:
                existing = Vintage(**{**asdict(existing), "remote": remote})
                _write_manifest(existing)
            return existing, False
    stamp = download.retrieved_at.strftime("%Y%m%dT%H%M%S%fZ")
    directory = _period_dir(raw_dir, source, period) / f"{stamp}_{download.sha256[:12]}"
    directory.mkdir(parents=True, exist_ok=False)
    target = directory / file_name
    shutil.move(download.path, target)
    target.chmod(0o444)
    vintage = Vintage(
        source=source,
        period=period,
        file_name=file_name,
        url=download.url,
        sha256=download.sha256,
        size_bytes=download.size_bytes,
        retrieved_at=download.retrieved_at.isoformat(),
        headers=download.headers,
        directory=str(directory),
        remote=remote or {},
    )
    _write_manifest(vintage)
    return vintage, True


def _write_manifest(vintage: Vintage) -> None:
    """The manifest is written last and atomically: a vintage without one does not exist."""
    directory = Path(vintage.directory)
    manifest = {k: v for k, v in asdict(vintage).items() if k != "directory"}
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, directory / MANIFEST)
