"""A non-blocking check per source: was every month of the run fetched? A source that is down for a month keeps
its previous data, the run goes on with the other sources, and this check (severity WARN) says which month failed
and why; `mirror-trade run` exits non-zero and alerts."""

import dagster as dg

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
