"""Shared fixtures: a local Eurostat-shaped HTTP server over real sample files, and archive helpers."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import py7zr
import pytest

from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib.config import SAMPLE_DATA_DIR, HttpPolicy, Settings, load_settings

# `make test` runs the test modules in two pytest-xdist workers. A worker's __main__ (execnet's) has neither
# __spec__ nor __file__, which pyspark's pyspark.sql.connect (imported by Great Expectations) takes for its own
# doctest runner, and then ends the process with sys.exit(0) (pyspark/sql/connect/utils.py, check_dependencies).
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"

SAMPLE_COMEXT = SAMPLE_DATA_DIR / "comext"
FAST_HTTP = HttpPolicy(connect_timeout_s=5, read_timeout_s=10, max_attempts=3, backoff_base_s=0.01, max_wait_s=5)


def read_member(archive: Path) -> tuple[str, str]:
    """(member name, text) of a one-file 7z archive."""
    with py7zr.SevenZipFile(archive) as z:
        name = z.getnames()[0]
        out = archive.parent / f".read-{archive.stem}"
        z.extractall(out)
    text = (out / name).read_text()
    shutil.rmtree(out)
    return name, text


def write_archive(path: Path, member: str, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    src = path.parent / f".src-{path.stem}" / member
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(text)
    with py7zr.SevenZipFile(path, "w") as z:
        z.write(src, arcname=member)
    shutil.rmtree(src.parent)
    return path


def rewrite_sample(
    period: str, dest_dir: Path, edit: Callable[[list[str]], list[str]], member: str | None = None
) -> Path:
    """Copy of the real sample month with its lines edited (header is line 0), repacked as full_v2_<period>.7z."""
    name, text = read_member(SAMPLE_COMEXT / f"full_v2_{period}.7z")
    lines = edit(text.splitlines())
    return write_archive(dest_dir / f"full_v2_{period}.7z", member or name, "\n".join(lines) + "\n")


@pytest.fixture
def served_dir(tmp_path: Path) -> Path:
    """Folder the local server serves; tests copy or write month archives into it."""
    folder = tmp_path / "served"
    folder.mkdir()
    return folder


@pytest.fixture
def eurostat(served_dir: Path) -> Iterator[EurostatFileServer]:
    with EurostatFileServer(served_dir) as server:
        yield server


def copy_sample(served_dir: Path, *periods: str) -> None:
    for period in periods:
        shutil.copy(SAMPLE_COMEXT / f"full_v2_{period}.7z", served_dir / f"full_v2_{period}.7z")


@pytest.fixture
def settings(tmp_path: Path, eurostat: EurostatFileServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MIRROR_TRADE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MIRROR_TRADE_COMEXT_URL", eurostat.base_url)
    return dataclasses.replace(load_settings(), http=FAST_HTTP, comtrade_min_interval_s=0.0)


# The longest modules first: `make test` hands whole modules to two workers in this order (--no-loadscope-reorder;
# xdist's own order is by number of tests, which handed the Spark module, 2 tests and 4 minutes, out last and left
# the other worker idle at the end).
SLOWEST_FIRST = ("test_spark.py", "test_readme.py", "test_e2e.py", "test_cli.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's own order is kept
