"""The Dagster definitions: one job over every asset, blocking checks, the nightly schedule's window."""

from __future__ import annotations

import dagster as dg
import pytest

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


def test_gx_checks_are_blocking(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    specs = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys if key.name.startswith("gx_")}
    marts = [p.stem for p in EXPECTATIONS_DIR.glob("fct_*.json")]
    assert len(marts) == 6
    assert set(specs) == {"gx_raw_comext_monthly", "gx_raw_comtrade_monthly"} | {f"gx_{m}" for m in marts}
    assert all(spec.blocking for spec in specs.values())
