"""raw/comtrade_monthly and raw/ecb_exchange_rates: the partner side and the exchange rate."""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.ingest.availability import ingest_months, source_available_result, source_available_spec
from orchestration.defs.partitions import monthly_partitions
from orchestration.lib import fetch_status
from orchestration.lib.config import load_settings
from orchestration.lib.errors import SourceError
from orchestration.lib.http import new_session
from orchestration.lib.periods import period_of_partition
from orchestration.lib.progress import progress_line
from orchestration.lib.sources.comtrade.client import ComtradeApi, Throttle
from orchestration.lib.sources.comtrade.ingest import call_plan, ingest_month, scope
from orchestration.lib.sources.ecb import ingest as ecb_ingest

RAW_COMTRADE_KEY = dg.AssetKey(["raw", "comtrade_monthly"])
RAW_COMTRADE_AVAILABILITY_KEY = dg.AssetKey(["raw", "comtrade_availability"])
RAW_COMTRADE_REVISIONS_KEY = dg.AssetKey(["raw", "comtrade_revisions"])
RAW_ECB_KEY = dg.AssetKey(["raw", "ecb_exchange_rates"])
COMTRADE_CHECK = "gx_raw_comtrade_monthly"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RAW_COMTRADE_KEY,
            group_name="partners",
            kinds={"python", "parquet"},
            description=(
                "UN Comtrade monthly HS data as reported by the watched partner countries (imports from and exports "
                "to each EU member, Russia, Belarus and every other watched country). Each release is kept as an "
                "immutable vintage of raw JSON responses; the month's records become one typed parquet partition."
            ),
        ),
        dg.AssetSpec(
            RAW_COMTRADE_AVAILABILITY_KEY,
            group_name="partners",
            kinds={"python", "parquet"},
            description="getDa per watched reporter and month: released or not, release dates, checksum, records.",
        ),
        dg.AssetSpec(
            RAW_COMTRADE_REVISIONS_KEY,
            group_name="partners",
            kinds={"python", "parquet"},
            description="For each new release, the watched records that changed against the release it replaced.",
        ),
    ],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            COMTRADE_CHECK,
            asset=RAW_COMTRADE_KEY,
            # Contained, not blocking: a month that fails is quarantined (never published, its previous data
            # kept) and the other months and sources go on; the run still fails and names check, table, month.
            blocking=False,
            description="Great Expectations suite expectations/raw_comtrade_monthly.json on each month of the run.",
        ),
        source_available_spec(RAW_COMTRADE_KEY),
    ],
)
def raw_comtrade_monthly(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    settings = load_settings()
    api = ComtradeApi(
        new_session(settings.http, log=context.log.info),
        settings.comtrade_url,
        settings.comtrade_api_key,
        settings.http,
        Throttle(settings.comtrade_min_interval_s),
        settings.comtrade_max_records,
        log=context.log.info,
    )
    coverage = scope(settings, api.keyed)
    if not api.keyed:
        context.log.warning(
            f"COMTRADE_API_KEY is not set: using the keyless preview, so coverage is limited to {coverage}"
        )
    # Before any call: how many calls and minutes the run will take at the configured interval.
    context.log.info(
        call_plan(settings, api.keyed, [period_of_partition(k) for k in context.partition_keys]).describe()
    )
    months, unavailable = ingest_months(
        context, settings, "comtrade", lambda period: ingest_month(settings, api, period, log=context.log.info)
    )
    failures = [m.check.describe() for m in months if m.status == "rejected" and m.check]
    yield dg.MaterializeResult(
        asset_key=RAW_COMTRADE_AVAILABILITY_KEY,
        metadata={
            "released": dg.MetadataValue.json(
                {m.period: [r.reporter for r in m.reporters if r.released] for m in months}
            )
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_COMTRADE_REVISIONS_KEY,
        metadata={
            "new_releases": dg.MetadataValue.json(
                {m.period: [r.reporter for r in m.reporters if r.status == "fetched"] for m in months}
            )
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_COMTRADE_KEY,
        metadata={
            "months": dg.MetadataValue.json({m.period: m.as_metadata() for m in months}),
            "rows": sum(m.rows for m in months if m.status == "loaded"),
            "scope": coverage,
            "rejected_months": ",".join(m.period for m in months if m.status == "rejected"),
            "unavailable": dg.MetadataValue.json(unavailable),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=COMTRADE_CHECK,
                asset_key=RAW_COMTRADE_KEY,
                passed=not failures,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(failures) if failures else None,
                metadata={
                    "months_checked": ",".join(m.period for m in months),
                    "failures": dg.MetadataValue.json(failures),
                },
            ),
            source_available_result(RAW_COMTRADE_KEY, unavailable),
        ],
    )


@dg.asset(
    key=RAW_ECB_KEY,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="partners",
    kinds={"python", "parquet"},
    description=(
        "ECB monthly average USD per EUR (EXR/M.USD.EUR.SP00.A, csvdata) for the run's months, kept as a raw "
        "vintage. A month without a rate is reported; the mirror marts show no USD value for it (no_fx_rate)."
    ),
    check_specs=[source_available_spec(RAW_ECB_KEY)],
)
def raw_ecb_exchange_rates(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    periods = [period_of_partition(k) for k in context.partition_keys]
    unavailable: dict[str, str] = {}
    try:
        rates, vintage, missing = ecb_ingest.ingest_rates(
            settings, new_session(settings.http, log=context.log.info), periods, log=context.log.info
        )
    except SourceError as exc:
        context.log.error(str(exc))
        rates, vintage, missing = [], None, periods
        unavailable = dict.fromkeys(periods, str(exc))
    else:
        unavailable = dict.fromkeys(missing, ecb_ingest.missing_message(missing))
    for period in periods:
        fetch_status.record(
            settings, "ecb", period, "failed" if period in unavailable else "ok", unavailable.get(period)
        )
    progress_line(
        context.log,
        f"ecb {periods[0][:4]}-{periods[0][4:]}..{periods[-1][:4]}-{periods[-1][4:]}: {len(rates)} monthly rates"
        + (f", {len(unavailable)} months without one (the run's summary says why)" if unavailable else ""),
    )
    return dg.MaterializeResult(
        metadata={
            "rates": dg.MetadataValue.json({r.period: str(r.usd_per_eur) for r in rates}),
            "sha256": vintage.sha256 if vintage else None,
            "retrieved_at": vintage.retrieved_at if vintage else None,
            "unavailable": dg.MetadataValue.json(unavailable),
        },
        check_results=[source_available_result(RAW_ECB_KEY, unavailable)],
    )
