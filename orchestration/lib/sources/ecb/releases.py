"""Whether the ECB series has a month newer than the newest one held, asking only for observations after it."""

from __future__ import annotations

import re

import requests

from orchestration.lib.config import Settings
from orchestration.lib.sources.ecb.facts import SERIES


def ecb_newest_month(settings: Settings, session: requests.Session) -> str | None:
    """Newest month of the series (YYYYMM), asking only for observations after the newest month held."""
    held = sorted(p.name for p in (settings.parquet_dir / "ecb").glob("[0-9]*") if p.is_dir())
    start = held[-1] if held else "201901"
    url = f"{settings.ecb_url}/data/{SERIES}?format=csvdata&startPeriod={start[:4]}-{start[4:]}"
    try:
        response = session.get(url, timeout=(settings.http.connect_timeout_s, settings.http.read_timeout_s))
    except requests.RequestException:
        return held[-1] if held else None
    if response.status_code != 200:
        return held[-1] if held else None
    months = re.findall(r",(\d{4})-(\d{2}),", response.text)
    return max((y + m for y, m in months), default=start if held else None)
