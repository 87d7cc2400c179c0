"""The nightly run at 02:00 UTC: release detection first, then only the months that changed."""

import hashlib

import dagster as dg

from orchestration.lib.releases import nightly_plan

NIGHTLY_JOB = "mirror_trade_pipeline"
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"

pipeline_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    description="Comext months -> raw vintages -> parquet -> dbt marts -> blocking checks -> publication.",
)


def range_tags(start_key: str, end_key: str) -> dict[str, str]:
    return {PARTITION_RANGE_START: start_key, PARTITION_RANGE_END: end_key}


def month_range_tags(first: str, last: str) -> dict[str, str]:
    """The partition range tags of months YYYYMM..YYYYMM."""
    return range_tags(f"{first[:4]}-{first[4:]}-01", f"{last[:4]}-{last[4:]}-01")


@dg.schedule(
    job=pipeline_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Nightly: find new and revised releases (Comext listing, Comtrade getDa, ECB), rebuild the affected months, "
        "check, publish; with nothing new, skip with one line."
    ),
)
def nightly(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    plan = nightly_plan()
    context.log.info(plan.summary())
    if not plan.months:
        return dg.SkipReason(plan.summary())
    # One run per range of consecutive changed months; they queue one at a time (dagster.yaml).
    tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M") if context.scheduled_execution_time else ""
    return [
        dg.RunRequest(run_key=f"nightly-{tick}-{first}-{last}", tags=month_range_tags(first, last))
        for first, last in plan.ranges()
    ]


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Between nightly runs: the same release detection every 6 hours, for operators who want it sooner.",
)
def release_sensor(context: dg.SensorEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    plan = nightly_plan()
    if not plan.months:
        return dg.SkipReason(plan.summary())
    # One request per distinct set of releases and range of consecutive months: the same plan seen twice is not
    # run twice.
    plan_key = hashlib.sha256(plan.summary().encode()).hexdigest()[:16]
    return [
        dg.RunRequest(run_key=f"{plan_key}-{first}-{last}", tags=month_range_tags(first, last))
        for first, last in plan.ranges()
    ]
