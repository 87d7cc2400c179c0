"""What is new or revised across the sources tonight, found without downloading the data.

Each source says what is new in its own `releases` module (Comext: the folder listing; Comtrade: getDa; ECB: a
newer month of the series); this module puts them together into one plan of months to (re)build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

from orchestration.lib import reference
from orchestration.lib.config import Settings
from orchestration.lib.periods import months_back, next_month
from orchestration.lib.sources.comext.client import comext_listing
from orchestration.lib.sources.comext.releases import comext_is_current
from orchestration.lib.sources.comtrade.client import ComtradeApi, Throttle
from orchestration.lib.sources.comtrade.releases import comtrade_changes
from orchestration.lib.sources.ecb.facts import SERIES
from orchestration.lib.sources.ecb.releases import ecb_newest_month


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


def nightly_plan() -> ReleasePlan:
    """Release detection for the nightly run: listing and getDa calls, no data downloaded. Kept free of Dagster
    and dbt imports, so that a night with nothing new costs a second, not an orchestrator start-up."""
    from orchestration.lib.config import load_settings
    from orchestration.lib.http import new_session

    settings = load_settings()
    session = new_session(settings.http)
    api = ComtradeApi(
        session,
        settings.comtrade_url,
        settings.comtrade_api_key,
        settings.http,
        Throttle(settings.comtrade_min_interval_s),
        settings.comtrade_max_records,
    )
    return plan_releases(settings, session, api, settings.revision_window_months)
