"""The Dagster definitions: one job over every asset, blocking checks, the nightly schedule's window."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.defs.quality.marts import MART_SUITES
from orchestration.lib.config import EXPECTATIONS_DIR, REPO_ROOT
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
    assert {
        "fct_eu_exports_by_destination",
        "fct_substitution",
        "fct_substitution_by_country",
        "fct_unrecorded_exports",
        "fct_unrecorded_exports_by_country",
        "fct_unit_values",
        "fct_circumvention_signals",
        "signal_coverage",
        "dim_products",
        "fct_trade_routes",
        "fct_route_member_states",
    } <= set(marts), "every research measure has a blocking GX suite"
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


LOADED = """
import json
from orchestration.definitions import defs

repo = defs.get_repository_def()
graph = repo.asset_graph
print(json.dumps({
    "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
    "checks": sorted(k.name for k in graph.asset_check_keys),
    "jobs": sorted(j.name for j in repo.get_all_jobs()),
    "schedules": sorted(s.name for s in repo.schedule_defs),
    "sensors": sorted(s.name for s in repo.sensor_defs),
}))
"""


def test_the_code_location_loads_as_dagster_dev_loads_it_without_the_venv_on_path(tmp_path) -> None:
    """`make dev` runs `dagster dev` with a PATH that need not hold the virtualenv; dbt must still be found."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from orchestration.lib.config import REPO_ROOT

    bin_dir = Path(sys.executable).parent
    # A copy of the code location, first on the module path: under `dagster dev` the dbt project is parsed again
    # into its target/, which the pipeline runs of the test modules running beside this one read meanwhile.
    root = tmp_path / "repo"
    for name in ("orchestration", "dbt_project", "expectations"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    (root / "sample_data").symlink_to(REPO_ROOT / "sample_data")
    shared_manifest = REPO_ROOT / "dbt_project" / "target" / "manifest.json"
    shared_before = shared_manifest.stat().st_mtime_ns if shared_manifest.exists() else None
    env = {
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(root),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "DAGSTER_IS_DEV_CLI": "1",  # what `dagster dev` sets for its code servers: dagster-dbt prepares then
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    (tmp_path / "dagster").mkdir()
    assert shutil.which("dbt", path=env["PATH"]) is None, "the test needs a PATH without dbt"

    validate = subprocess.run(
        [str(bin_dir / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout[-3000:] + validate.stderr[-3000:]
    assert "Validation successful" in validate.stdout + validate.stderr

    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], env=env, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    found = json.loads(loaded.stdout.splitlines()[-1])
    assert {"raw/comext_monthly", "marts/fct_mirror_flows", "published/warehouse"} <= set(found["assets"])
    assert {"gx_raw_comext_monthly", "gx_fct_eu_exports", "source_available"} <= set(found["checks"])
    assert "mirror_trade_pipeline" in found["jobs"]
    assert found["schedules"] == ["nightly"]
    assert set(found["sensors"]) == {"alert_on_run_failure", "release_sensor"}
    # the dev preparation parsed the copy; the checkout's manifest, which other runs read, was left alone
    assert (root / "dbt_project" / "target" / "manifest.json").is_file()
    assert (shared_manifest.stat().st_mtime_ns if shared_manifest.exists() else None) == shared_before


def test_only_dagsters_event_log_is_written_without_fsync(tmp_path) -> None:
    """The event log's SQLite files (history/runs/*.db) skip the fsync per commit; any other SQLite file a process
    opens through SQLAlchemy (Dagster's run storage, history/runs.db, among them) keeps SQLite's default (FULL = 2)."""
    import sqlalchemy as sa

    from orchestration.defs import event_log

    runs = tmp_path / "history" / "runs"
    runs.mkdir(parents=True)
    synchronous = {}
    for path in (runs / "index.db", runs / "0f3a-run.db", tmp_path / "history" / "runs.db", tmp_path / "other.db"):
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            value = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        synchronous[path.relative_to(tmp_path).as_posix()] = value
        engine.dispose()
    assert synchronous == {
        "history/runs/index.db": 0,
        "history/runs/0f3a-run.db": 0,
        "history/runs.db": 2,
        "other.db": 2,
    }
    assert not event_log.is_event_log("")  # an in-memory database


def test_the_event_log_rule_matches_the_files_dagster_writes(tmp_path) -> None:
    """A real Dagster instance, from the project's dagster.yaml, runs one asset: the files its event log wrote are
    the ones `is_event_log` names, and its run storage is not (so the rule follows Dagster's layout, not a guess)."""
    import shutil

    from orchestration.defs.event_log import is_event_log

    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")

    @dg.asset
    def one() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        result = dg.materialize([one], instance=instance)
    assert result.success
    written = {p.relative_to(tmp_path).as_posix(): is_event_log(str(p)) for p in tmp_path.rglob("*.db")}
    assert written == {
        "history/runs.db": False,
        "history/runs/index.db": True,
        f"history/runs/{result.run_id}.db": True,
        "schedules/schedules.db": False,
    }
