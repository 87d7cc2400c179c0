"""raw/comext_monthly: one Comext month per partition, fetched, kept, parsed and validated."""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.ingest.availability import ingest_months, source_available_result, source_available_spec
from orchestration.defs.partitions import monthly_partitions
from orchestration.lib.config import load_settings
from orchestration.lib.errors import SourceError
from orchestration.lib.http import new_session
from orchestration.lib.sources.comext.client import comext_listing
from orchestration.lib.sources.comext.ingest import ingest_month

RAW_COMEXT_KEY = dg.AssetKey(["raw", "comext_monthly"])
RAW_COMEXT_REVISIONS_KEY = dg.AssetKey(["raw", "comext_revisions"])
RAW_CHECK = "gx_raw_comext_monthly"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RAW_COMEXT_KEY,
            group_name="comext",
            kinds={"python", "parquet"},
            description=(
                "Eurostat Comext bulk monthly file (full_v2_YYYYMM.7z) downloaded over HTTP, kept immutable under "
                "raw/ with its sha256, unpacked, header-checked (v2, or v1 mapped to v2) and written as one typed "
                "parquet partition per month. A partition reaches the lake only if its Great Expectations suite "
                "passes; a month the source's listing shows unchanged is not downloaded again."
            ),
        ),
        dg.AssetSpec(
            RAW_COMEXT_REVISIONS_KEY,
            group_name="comext",
            kinds={"python", "parquet"},
            description="For each new vintage, the watched codes' values that changed against the vintage it replaced.",
        ),
    ],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            RAW_CHECK,
            asset=RAW_COMEXT_KEY,
            # Contained, not blocking: a month that fails is quarantined (never published, its previous data
            # kept) and the other months and sources go on; the run still fails and names check, table, month.
            blocking=False,
            description="Great Expectations suite expectations/raw_comext_monthly.json on each month of the run.",
        ),
        source_available_spec(RAW_COMEXT_KEY),
    ],
)
def raw_comext_monthly(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    settings = load_settings()
    session = new_session(settings.http, log=context.log.info)
    try:
        listing = comext_listing(settings, session)
    except SourceError as exc:
        context.log.warning(f"{exc}; every month of the run is downloaded and compared by sha256")
        listing = {}
    outcomes, unavailable = ingest_months(
        context,
        settings,
        "comext",
        lambda period: ingest_month(settings, session, period, log=context.log.info, remote=listing.get(period)),
        downloaded=lambda o: o.vintage.size_bytes if o.new_vintage else 0,
    )
    rejected = [o for o in outcomes if o.status == "rejected"]
    failures = [o.check.describe() for o in rejected if o.check]
    yield dg.MaterializeResult(
        asset_key=RAW_COMEXT_REVISIONS_KEY,
        metadata={"new_vintages": ",".join(o.period for o in outcomes if o.new_vintage and o.status == "loaded")},
    )
    yield dg.MaterializeResult(
        asset_key=RAW_COMEXT_KEY,
        metadata={
            "months": dg.MetadataValue.json({o.period: o.as_metadata() for o in outcomes}),
            "rows": sum(o.rows for o in outcomes if o.status != "rejected"),
            "new_vintages": sum(o.new_vintage for o in outcomes),
            "rejected_months": ",".join(o.period for o in rejected),
            "unavailable": dg.MetadataValue.json(unavailable),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=RAW_CHECK,
                asset_key=RAW_COMEXT_KEY,
                passed=not rejected,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(failures) if failures else None,
                metadata={
                    "months_checked": ",".join(o.period for o in outcomes),
                    "failures": dg.MetadataValue.json(failures),
                },
            ),
            source_available_result(RAW_COMEXT_KEY, unavailable),
        ],
    )
