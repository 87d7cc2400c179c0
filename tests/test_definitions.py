"""The Dagster definitions: one job over every asset, blocking checks, the nightly schedule's window."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.defs.quality.marts import MART_SUITES
from orchestration.lib.config import EXPECTATIONS_DIR
from orchestration.lib.dbt_manifest import ensure_manifest


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    ensure_manifest()
    from orchestration.definitions import defs

    return defs


def test_job_covers_ingest_dbt_checks_and_publication(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("mirror_trade_pipeline")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert {
        "raw/comext_monthly",
        "raw/comtrade_monthly",
        "raw/comtrade_availability",
        "raw/ecb_exchange_rates",
        "marts/fct_eu_exports",
        "marts/fct_partner_trade",
        "marts/dim_fx_monthly",
        "marts/source_coverage",
        "published/warehouse",
    } <= keys
    checks = {c.name for c in job.asset_layer.asset_graph.asset_check_keys}
    assert {"gx_raw_comext_monthly", "gx_fct_eu_exports"} <= checks
    assert any(name.startswith("unique_combination_fct_eu_exports") for name in checks)


def test_mart_checks_block_and_raw_checks_are_contained(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    specs = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys if key.name.startswith("gx_")}
    marts = [p.stem for p in EXPECTATIONS_DIR.glob("*.json") if not p.stem.startswith("raw_")]
    # every mart suite on disk is registered (MART_SUITES), and the other way round
    assert sorted(marts) == sorted(m.name for m in MART_SUITES)
    assert set(specs) == {"gx_raw_comext_monthly", "gx_raw_comtrade_monthly"} | {f"gx_{m}" for m in marts}
    assert all(specs[f"gx_{m}"].blocking for m in marts), "a mart that fails its checks is never published"
    assert not specs["gx_raw_comext_monthly"].blocking, "a raw month that fails is quarantined; the rest goes on"
    assert not specs["gx_raw_comtrade_monthly"].blocking


def test_instance_config_runs_one_run_at_a_time(tmp_path) -> None:
    import shutil

    from orchestration.lib.config import REPO_ROOT

    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 1
