"""published/warehouse: the analysts' DuckDB file, replaced only when every blocking check of the run passed."""

import dagster as dg

from orchestration.defs.ingest.availability import CONTAINED_CHECKS
from orchestration.defs.partitions import monthly_partitions, window_dates
from orchestration.lib.config import load_settings
from orchestration.lib.progress import progress_line
from orchestration.lib.publish.publication import publish
from orchestration.lib.report.html import build_report

PUBLISHED_KEY = dg.AssetKey(["published", "warehouse"])
MART_KEYS = [
    dg.AssetKey(["marts", name])
    for name in ("fct_eu_exports", "fct_partner_trade", "dim_fx_monthly", "source_coverage")
]


def _check_evaluations(context: dg.AssetExecutionContext) -> list:
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return [r.dagster_event.event_specific_data for r in records]


@dg.asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="publication",
    kinds={"duckdb"},
    description=(
        "$MIRROR_TRADE_HOME/published/warehouse.duckdb, atomically replaced by the run's build file once every "
        "blocking check passed; marts.publication_log records each publication's months, source files (sha256) "
        "and checks. A run that changes nothing publishes nothing."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    evaluations = _check_evaluations(context)
    name = lambda e: f"{e.asset_key.to_user_string()}:{e.check_name}"  # noqa: E731
    blocking_failures = [
        name(e)
        for e in evaluations
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR and e.check_name not in CONTAINED_CHECKS
    ]
    if blocking_failures:
        raise dg.Failure(description=f"publication blocked: checks failed in this run: {', '.join(blocking_failures)}")
    passed = [name(e) for e in evaluations if e.passed]
    # Failed without blocking: incomplete coverage (WARN), and contained source failures (a quarantined or
    # unavailable month whose previous data was kept).
    warned = [
        name(e)
        for e in evaluations
        if not e.passed and (e.severity == dg.AssetCheckSeverity.WARN or e.check_name in CONTAINED_CHECKS)
    ]
    outcome = publish(
        settings, context.run_id, window=window_dates(context), checks_passed=passed, checks_warned=warned
    )
    progress_line(context.log, outcome.message)
    report = None
    if outcome.published:
        # The report sits next to the publication. It reads the published file, so a failure here cannot
        # touch the data: it is reported, and `mirror-trade report` writes it again.
        try:
            report = build_report(settings.published_warehouse, settings.published_dir / "report.html")
            context.log.info(f"report: {report}")
        except Exception as exc:  # any failure of the report is reported, never fatal to the publication
            context.log.error(f"the publication succeeded but its report failed: {type(exc).__name__}: {exc}")
    if warned:
        context.log.warning(f"published with warnings (not blocking): {', '.join(warned)}")
    return dg.MaterializeResult(
        metadata={
            "published": outcome.published,
            "publication_id": outcome.publication_id,
            "path": str(outcome.path),
            "months": len(outcome.months),
            "checks_passed": len(passed),
            "checks_warned": dg.MetadataValue.json(warned),
            "message": outcome.message,
            "report": str(report) if report else None,
        }
    )
