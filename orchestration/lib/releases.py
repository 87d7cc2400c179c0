"""What is new or revised at each source, found without downloading the data (SOURCES.md sections 1-3).

- Comext: the folder listing (name, size, last update) against what each held vintage recorded of it.
- Comtrade: getDa (lastReleased, datasetChecksum per watched reporter and month) against the held vintages.
- ECB: whether the series has a month newer than the newest one held.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import requests

from orchestration.lib import comext, rawstore, reference
from orchestration.lib.comtrade import ComtradeApi, vintage_name
from orchestration.lib.config import Settings
from orchestration.lib.ecb import SERIES
from orchestration.lib.errors import SourceError

LISTING_QUERY = (
    "?format=csv&dir=comext%2FCOMEXT_DATA%2FPRODUCTS&hierarchy=false&sizeFormat=NONE&dateFormat=ISO&sort=name"
)
MONTH_FILE = re.compile(r"^full_v2_(\d{4})(\d{2})\.7z$")


@dataclass
class ReleasePlan:
    comext: list[str] = field(default_factory=list)  # YYYYMM, new or revised
    comtrade: list[str] = field(default_factory=list)
    ecb_newest: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def months(self) -> list[str]:
        return sorted(set(self.comext) | set(self.comtrade))

    def ranges(self) -> list[tuple[str, str]]:
        """The months as runs of consecutive months (first, last): the nightly runs each alone, so that two
        changed months a year apart rebuild those two months (and what depends on them), not the year between."""
        out: list[tuple[str, str]] = []
        for month in self.months:
            if out and month == next_month(out[-1][1]):
                out[-1] = (out[-1][0], month)
            else:
                out.append((month, month))
        return out

    def summary(self) -> str:
        if not self.months:
            return "nothing new: " + "; ".join(self.notes)
        return (
            f"{len(self.months)} months to (re)build, {self.months[0][:4]}-{self.months[0][4:]}.."
            f"{self.months[-1][:4]}-{self.months[-1][4:]} (Comext: {', '.join(self.comext) or '-'}; "
            f"Comtrade: {', '.join(self.comtrade) or '-'}); " + "; ".join(self.notes)
        )


def next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[4:])
    return f"{year + 1:04d}01" if month == 12 else f"{year:04d}{month + 1:02d}"


def months_back(newest: str, count: int) -> list[str]:
    year, month = int(newest[:4]), int(newest[4:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return sorted(p for p in out if p >= "201901")


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


def comext_is_current(settings: Settings, period: str, remote: dict) -> bool:
    """The newest held vintage was fetched when the listing said exactly this of the file."""
    vintages = rawstore.list_vintages(settings.raw_dir, comext.SOURCE, period)
    return bool(vintages) and vintages[-1].remote == remote


def plan_releases(settings: Settings, session: requests.Session, api: ComtradeApi, window_months: int) -> ReleasePlan:
    plan = ReleasePlan()
    listing = comext_listing(settings, session)
    if listing:
        newest = max(listing)
        window = [p for p in months_back(newest, window_months) if p in listing]
        plan.comext = [p for p in window if not comext_is_current(settings, p, listing[p])]
        plan.notes.append(f"Comext listing: {len(window) - len(plan.comext)} of {len(window)} months unchanged")
        reporters = [reference.comtrade_m49(c) for c in settings.comtrade_reporters]
        periods = months_back(newest, window_months)
        plan.comtrade = comtrade_changes(settings, api, reporters, periods)
        plan.notes.append(
            f"Comtrade getDa: {len(plan.comtrade)} of {len(periods)} months with new releases "
            f"for {len(reporters)} reporters"
        )
    plan.ecb_newest = ecb_newest_month(settings, session)
    plan.notes.append(f"ECB {SERIES}: newest month {plan.ecb_newest or 'unknown'}")
    return plan


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


def nightly_plan() -> ReleasePlan:
    """Release detection for the nightly run: listing and getDa calls, no data downloaded. Kept free of Dagster
    and dbt imports, so that a night with nothing new costs a second, not an orchestrator start-up."""
    from orchestration.lib.comtrade import Throttle
    from orchestration.lib.config import load_settings
    from orchestration.lib.http import new_session

    settings = load_settings()
    session = new_session()
    api = ComtradeApi(
        session,
        settings.comtrade_url,
        settings.comtrade_api_key,
        settings.http,
        Throttle(settings.comtrade_min_interval_s),
        settings.comtrade_max_records,
    )
    return plan_releases(settings, session, api, settings.revision_window_months)
