"""Asking Eurostat for Comext: the folder listing and one month's file, through the shared polite HTTP.

What the URLs look like and what the listing holds are facts of the source (`facts`); this module owns the calls.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import requests

from orchestration.lib.config import Settings
from orchestration.lib.errors import SourceError
from orchestration.lib.http import Download, download_file
from orchestration.lib.sources.comext.facts import LISTING_QUERY, MONTH_FILE, SEVEN_ZIP_MAGIC, describe, month_url


def download_month(
    settings: Settings, session: requests.Session, period: str, dest: Path, *, log: Callable[[str], None] = print
) -> Download:
    """The month's 7z at `dest`, complete (a body cut short is resumed) and checked to be a 7z archive."""
    return download_file(
        session,
        month_url(settings.comext_url, period),
        dest,
        what=describe(period),
        policy=settings.http,
        expect_magic=SEVEN_ZIP_MAGIC,
        log=log,
    )


def comext_listing(settings: Settings, session: requests.Session) -> dict[str, dict[str, str | int | None]]:
    """{YYYYMM: {'size', 'last_update'}} for every monthly file the listing names (annual files are skipped)."""
    url = settings.comext_url + LISTING_QUERY
    try:
        response = session.get(url, timeout=(settings.http.connect_timeout_s, settings.http.read_timeout_s))
    except requests.RequestException as exc:
        raise SourceError(f"Comext listing: {type(exc).__name__} at {url}") from exc
    if response.status_code != 200 or "html" in response.headers.get("Content-Type", "").lower():
        raise SourceError(
            f"Comext listing: HTTP {response.status_code} ({response.headers.get('Content-Type')}) at {url}"
        )
    rows = list(csv.reader(io.StringIO(response.text)))
    if not rows:
        raise SourceError(f"Comext listing: empty answer from {url}")
    header = [h.strip().upper() for h in rows[0]]

    def column(*names: str) -> int | None:
        for i, h in enumerate(header):
            if any(n in h for n in names):
                return i
        return None

    name_at, size_at, date_at = column("NAME"), column("SIZE"), column("UPDATE", "MODIF", "DATE")
    if name_at is None or size_at is None or date_at is None:
        raise SourceError(f"Comext listing: expected NAME, SIZE and LAST UPDATE columns, got {rows[0]} at {url}")
    listing = {}
    for row in rows[1:]:
        match = MONTH_FILE.match(row[name_at].strip()) if len(row) > name_at else None
        if match and match.group(2) != "52":
            size = row[size_at].strip()
            listing[match.group(1) + match.group(2)] = {
                "size": int(size) if size.isdigit() else None,
                "last_update": row[date_at].strip() or None,
            }
    return listing
