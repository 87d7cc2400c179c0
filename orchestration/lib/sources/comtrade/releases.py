"""Which Comtrade months have a new release, from getDa alone (no data downloaded).

A held vintage is a folder named after the release's `lastReleased` and `datasetChecksum`; a month whose getDa
names a release no held vintage has is new or revised.
"""

from __future__ import annotations

from orchestration.lib.config import Settings
from orchestration.lib.sources.comtrade.client import ComtradeApi
from orchestration.lib.sources.comtrade.parse import vintage_name


def comtrade_changes(settings: Settings, api: ComtradeApi, reporters: list[int], periods: list[str]) -> list[str]:
    """Months for which getDa names a release (checksum, date) that no held vintage has."""
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    scratch = settings.tmp_dir / "getDa-check.json"
    changed = set()
    for i in range(0, len(periods), 12):
        chunk = periods[i : i + 12]
        for row in api.availability(reporters, ",".join(chunk), scratch):
            folder = settings.raw_dir / "comtrade" / row["period"] / str(row["reporterCode"])
            if not (folder / vintage_name(row) / "manifest.json").exists():
                changed.add(row["period"])
    scratch.unlink(missing_ok=True)
    return sorted(changed)
