"""The one Definitions object of mirror-trade."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.ingest.comext import raw_comext_monthly
from orchestration.defs.publish.warehouse import published_warehouse
from orchestration.defs.quality.marts import gx_fct_eu_exports
from orchestration.defs.schedules import nightly, pipeline_job
from orchestration.defs.transform.dbt import dbt_project, warehouse_dbt
from orchestration.lib.dbt_manifest import DBT_EXECUTABLE

defs = dg.Definitions(
    assets=[raw_comext_monthly, warehouse_dbt, published_warehouse],
    asset_checks=[gx_fct_eu_exports],
    jobs=[pipeline_job],
    schedules=[nightly],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
