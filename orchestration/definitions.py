"""The one Definitions object of mirror-trade."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs import event_log  # noqa: F401  (Dagster's event log written without an fsync per event)
from orchestration.defs.alerts import alert_on_run_failure
from orchestration.defs.ingest.comext import raw_comext_monthly
from orchestration.defs.ingest.partners import raw_comtrade_monthly, raw_ecb_exchange_rates
from orchestration.defs.publish.warehouse import published_warehouse
from orchestration.defs.quality.marts import mart_checks
from orchestration.defs.schedules import nightly, pipeline_job, release_sensor
from orchestration.defs.transform.dbt import dbt_project, warehouse_dbt
from orchestration.lib.dbt_manifest import PIPELINE_DBT_EXECUTABLE

defs = dg.Definitions(
    assets=[raw_comext_monthly, raw_comtrade_monthly, raw_ecb_exchange_rates, warehouse_dbt, published_warehouse],
    asset_checks=mart_checks,
    jobs=[pipeline_job],
    schedules=[nightly],
    sensors=[alert_on_run_failure, release_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=PIPELINE_DBT_EXECUTABLE)},
)
