"""A non-blocking check per source: was every month of the run fetched? A source that is down for a month keeps
its previous data, the run goes on with the other sources, and this check (severity WARN) says which month failed
and why; `mirror-trade run` exits non-zero and alerts."""

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import dagster as dg

from orchestration.defs.partitions import progress
from orchestration.lib import fetch_status
from orchestration.lib.config import Settings
from orchestration.lib.errors import SourceError
from orchestration.lib.periods import period_of_partition
from orchestration.lib.progress import progress_line


class MonthResult(Protocol):
    status: str
    rows: int


M = TypeVar("M", bound=MonthResult)

CHECK = "source_available"


def source_available_spec(asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK,
        asset=asset,
        blocking=False,
        description="Every month of the run could be fetched (a month that could not keeps its previous data).",
    )


def source_available_result(asset: dg.AssetKey, unavailable: dict[str, str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=CHECK,
        asset_key=asset,
        passed=not unavailable,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(f"{period}: {reason}" for period, reason in sorted(unavailable.items())) or None,
        metadata={"months_checked": ",".join(sorted(unavailable)), "unavailable": dg.MetadataValue.json(unavailable)},
    )


# Checks on the raw sources whose failure is contained: the month is quarantined or kept at its previous data, and
# the rest is published. Every other failed check (the marts, the dbt tests) blocks the publication.
CONTAINED_CHECKS = frozenset({CHECK, "gx_raw_comext_monthly", "gx_raw_comtrade_monthly"})


def ingest_months(
    context: dg.AssetExecutionContext,
    settings: Settings,
    source: str,
    ingest: Callable[[str], M],
    downloaded: Callable[[M], int] = lambda _: 0,
) -> tuple[list[M], dict[str, str]]:
    """Every month of the run through `ingest`, contained: a month whose source fails keeps its previous data, is
    recorded (fetch status, returned reasons) and the next month goes on. Shows progress on a terminal."""
    months: list[M] = []
    unavailable: dict[str, str] = {}
    bar = progress(context.partition_keys, f"{source} months")
    for key in bar:
        period = period_of_partition(key)
        try:
            month = ingest(period)
        except SourceError as exc:
            context.log.error(str(exc))
            progress_line(context.log, f"{source} {period[:4]}-{period[4:]}: not fetched (the run's summary says why)")
            unavailable[period] = str(exc)
            fetch_status.record(settings, source, period, "failed", str(exc))
            continue
        fetch_status.record(settings, source, period, "rejected" if month.status == "rejected" else "ok")
        progress_line(context.log, f"{source} {period[:4]}-{period[4:]}: {month.status}, {month.rows:,} rows")
        months.append(month)
        done: Sequence[M] = months
        bar.set_postfix(rows=f"{sum(m.rows for m in done):,}", MB=f"{sum(map(downloaded, done)) / 1e6:.1f}")
    return months, unavailable
