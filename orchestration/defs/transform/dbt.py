"""dbt models as Dagster assets. The run's month window goes to dbt as vars, never as a partition key."""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.ingest.comext import RAW_COMEXT_KEY, RAW_COMEXT_REVISIONS_KEY
from orchestration.defs.ingest.partners import (
    RAW_COMTRADE_AVAILABILITY_KEY,
    RAW_COMTRADE_KEY,
    RAW_COMTRADE_REVISIONS_KEY,
    RAW_ECB_KEY,
)
from orchestration.defs.partitions import monthly_partitions, window_dates
from orchestration.lib.config import DBT_PROJECT_DIR, SPARK_BUILD_ONLY, load_settings
from orchestration.lib.dbt_manifest import ensure_manifest
from orchestration.lib.dbt_prepared import PARSE_DIR_ENV
from orchestration.lib.progress import progress_line
from orchestration.lib.publish.publication import incremental_schema_drift, prepare_build, prune_old_runs

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Every loader of the code location gets a current manifest. `dagster dev` (which sets DAGSTER_IS_DEV_CLI) reloads
# the location after an edit, so it parses every time, as dagster-dbt's prepare_if_dev would; but with the dbt next
# to this interpreter, which prepare_if_dev cannot find unless the virtualenv is on PATH.
ensure_manifest(force=bool(os.environ.get("DAGSTER_IS_DEV_CLI")))

DBT_RUNS_KEPT = 30
# dbt unit tests check the SQL's logic on hand-written rows, not the data: the same answer every night. They run in
# the test suite (tests/test_readme.py), not in each pipeline build (16 unit tests: about 5 s of a new month's dbt).
LOGIC_ONLY = ["--exclude-resource-type", "unit_test"]

# dbt sources that are Dagster assets upstream, by (source name, table name).
SOURCE_ASSETS = {
    ("comext", "trade_flows"): RAW_COMEXT_KEY,
    ("comext", "revisions"): RAW_COMEXT_REVISIONS_KEY,
    ("comtrade", "records"): RAW_COMTRADE_KEY,
    ("comtrade", "availability"): RAW_COMTRADE_AVAILABILITY_KEY,
    ("comtrade", "revisions"): RAW_COMTRADE_REVISIONS_KEY,
    ("ecb", "exchange_rates"): RAW_ECB_KEY,
}


class MirrorTradeTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: [schema, name] (marts/fct_eu_exports, reference/chp_list)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            key = SOURCE_ASSETS.get((props["source_name"], props["name"]))
            return spec.replace_attributes(key=key) if key else spec
        schema = props.get("config", {}).get("schema") or props["schema"]
        return spec.replace_attributes(key=dg.AssetKey([schema, props["name"]]), group_name="warehouse")


translator = MirrorTradeTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="warehouse_dbt",
)
def warehouse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    settings = load_settings()
    # mirror-trade-dbt parses there without the month window, so the next run re-parses only what changed.
    os.environ[PARSE_DIR_ENV] = str(settings.dbt_parse_dir)
    if settings.dbt_target != "build":
        yield from _build_elsewhere(context, dbt, settings.dbt_target)
        return
    start_of_build = prepare_build(settings, context.run_id)
    build = start_of_build.path
    context.log.info(f"build file {build}: {start_of_build.how}; {start_of_build.detail}")
    # dbt reads its target file and the parquet lake from the environment (profiles.yml, sources).
    os.environ["MIRROR_TRADE_BUILD_DB"] = str(build)
    os.environ["MIRROR_TRADE_HOME"] = str(settings.home)
    start, end = window_dates(context)
    context.log.info(f"dbt build {start} .. {end} into {build}")
    dbt_vars = json.dumps({"min_period": start, "max_period": end})
    args = ["build", *LOGIC_ONLY, "--vars", dbt_vars]
    drifted = incremental_schema_drift(settings, build)
    if drifted:
        # An upgrade changed the columns of month-partitioned marts: appending the window's months is impossible,
        # so every month the lake holds is rebuilt (the publication's sync copies such tables whole).
        context.log.warning(
            f"{', '.join(drifted)}: new, or columns changed, since the previous publication; rebuilding every "
            "month the lake holds (dbt build --full-refresh)"
        )
        args = [
            "build",
            "--full-refresh",
            *LOGIC_ONLY,
            "--vars",
            json.dumps({"min_period": "1900-01-01", "max_period": "2999-12-01"}),
        ]
    # Each run's dbt artefacts (run_results, logs) stay with the run's state, not in the source tree.
    target = settings.dbt_run_dir(context.run_id)
    os.environ["DBT_LOG_PATH"] = str(target)
    prune_old_runs(settings.dbt_runs_dir, keep=DBT_RUNS_KEPT)
    progress_line(context.log, f"dbt build {start[:7]}..{end[:7]}: started ({start_of_build.how} build database)")
    built = tested = 0
    for event in dbt.cli(args, context=context, target_path=target).stream():
        built += isinstance(event, dg.Output | dg.AssetMaterialization)
        tested += isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation)
        yield event
    progress_line(context.log, f"dbt build {start[:7]}..{end[:7]}: {built} models built, {tested} tests run")


def _build_elsewhere(context: dg.AssetExecutionContext, dbt: DbtCliResource, target: str) -> Iterator:
    """Build the run's months on another dbt target (Spark), then stop: checks and publication are DuckDB's."""
    start, end = window_dates(context)
    dbt_vars = json.dumps({"min_period": start, "max_period": end})
    progress_line(context.log, f"dbt build {start[:7]}..{end[:7]} on target {target}: started")
    yield from dbt.cli(["build", *LOGIC_ONLY, "--target", target, "--vars", dbt_vars], context=context).stream()
    raise dg.Failure(description=SPARK_BUILD_ONLY.format(window=f"{start[:7]}..{end[:7]}"))
