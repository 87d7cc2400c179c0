"""Nightly run at 02:00 UTC over the newest Comext months (re-pulled to pick up revisions)."""

import os
from datetime import datetime

import dagster as dg

NIGHTLY_JOB = "mirror_trade_pipeline"
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"

pipeline_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    description="Comext months -> raw vintages -> parquet -> dbt marts -> blocking checks -> publication.",
)


def month_key(year: int, month: int) -> str:
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}-01"


def range_tags(start_key: str, end_key: str) -> dict[str, str]:
    return {PARTITION_RANGE_START: start_key, PARTITION_RANGE_END: end_key}


def nightly_window(now: datetime, months: int) -> tuple[str, str]:
    """Eurostat publishes a month's detail about 6-7 weeks after it ends: from the 20th, month M-2 is
    expected; before, M-3 is the newest. The window re-pulls the `months` newest months."""
    lag = 2 if now.day >= 20 else 3
    end = (now.year, now.month - lag)
    return month_key(end[0], end[1] - months + 1), month_key(*end)


@dg.schedule(
    job=pipeline_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: re-pull the newest Comext months, rebuild what changed, check, publish.",
)
def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    months = int(os.environ.get("MIRROR_TRADE_NIGHTLY_MONTHS", "3"))
    start, end = nightly_window(context.scheduled_execution_time, months)
    return dg.RunRequest(tags=range_tags(start, end))
