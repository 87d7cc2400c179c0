"""Asking the ECB Data API for the series' months, in one call, through the shared polite HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from orchestration.lib.config import Settings
from orchestration.lib.http import Download, download_file
from orchestration.lib.sources.ecb.facts import SERIES, series_url


def download_series(
    settings: Settings,
    session: requests.Session,
    start: str,
    end: str,
    dest: Path,
    *,
    log: Callable[[str], None] = print,
) -> Download:
    """The series from `start` to `end` (YYYYMM) as SDMX-CSV at `dest`."""
    return download_file(
        session,
        series_url(settings.ecb_url, start, end),
        dest,
        what=f"ECB {SERIES} {start[:4]}-{start[4:]}..{end[:4]}-{end[4:]}",
        policy=settings.http,
        log=log,
    )
