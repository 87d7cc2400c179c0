"""The Dagster definitions: one job over every asset, blocking checks, the nightly schedule's window."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.defs.schedules import PARTITION_RANGE_END, PARTITION_RANGE_START, nightly_window
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


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (datetime(2026, 11, 28, 2, tzinfo=UTC), ("2026-07-01", "2026-09-01")),  # from the 20th: M-2 is out
        (datetime(2026, 11, 5, 2, tzinfo=UTC), ("2026-06-01", "2026-08-01")),  # before: M-3 is the newest
        (datetime(2026, 2, 3, 2, tzinfo=UTC), ("2025-09-01", "2025-11-01")),  # across the year boundary
    ],
)
def test_nightly_window(now: datetime, window: tuple[str, str]) -> None:
    assert nightly_window(now, 3) == window


def test_nightly_schedule_requests_a_partition_range_at_two_utc(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("nightly")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 28, 2, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert (request.tags[PARTITION_RANGE_START], request.tags[PARTITION_RANGE_END]) == ("2026-07-01", "2026-09-01")
