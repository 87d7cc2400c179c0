"""Publication: double-buffered and incremental; a stale build is never published; one run per home at a time."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import Settings
from orchestration.lib.publish.publication import (
    PublicationError,
    base_path,
    incremental_schema_drift,
    incremental_tables,
    latest_publication_id,
    prepare_build,
    publish,
)


def fake_build(settings: Settings, run_id: str) -> Path:
    """A build file with the marts publication needs (as dbt would leave them)."""
    build = prepare_build(settings, run_id).path
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        con.execute("CREATE OR REPLACE VIEW staging.v AS SELECT 1 AS x")
        con.execute(
            """CREATE OR REPLACE TABLE marts.source_coverage AS
               SELECT 'comext' AS source, DATE '2022-01-01' AS period, 'AT' AS reporter, true AS is_present,
                      'f.7z' AS source_file, ? AS source_sha256, TIMESTAMPTZ '2026-01-01' AS retrieved_at,
                      true AS month_complete""",
            [run_id],
        )
    return build


def test_publish_moves_the_build_into_place_and_logs_it(settings: Settings) -> None:
    fake_build(settings, "r1")
    outcome = publish(settings, "r1", window=("2022-01-01", "2022-01-01"), checks_passed=["a:b"], checks_warned=[])
    assert outcome.published and outcome.publication_id == 1
    assert not (settings.build_dir / "run.r1.duckdb").exists()
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'staging'"
        ).fetchall() == [(0,)]
        assert con.execute("SELECT checks_passed, months FROM marts.publication_log").fetchall()[0][0] == ["a:b"]


def test_a_build_started_before_another_publication_is_refused(settings: Settings) -> None:
    fake_build(settings, "slow")  # starts from "no publication"
    fake_build(settings, "fast")
    publish(settings, "fast", window=("2022-01-01", "2022-01-01"), checks_passed=[], checks_warned=[])
    before = settings.published_warehouse.read_bytes()

    with pytest.raises(PublicationError, match="changed during this run"):
        publish(settings, "slow", window=("2022-01-01", "2022-01-01"), checks_passed=[], checks_warned=[])

    assert settings.published_warehouse.read_bytes() == before
    assert latest_publication_id(settings.published_warehouse) == 1


def test_second_run_on_the_same_home_exits_cleanly(settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = subprocess.run(
            [str(Path(sys.executable).with_name("mirror-trade")), "run", "--start", "2022-01", "--end", "2022-01"],
            env={**os.environ, "MIRROR_TRADE_HOME": str(settings.home)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 3
    assert "another mirror-trade run holds" in result.stderr
    assert not settings.published_warehouse.exists()


# One Comext release per month of the fact, whose hash changes with its values (as a new vintage would).
COVERAGE_OF_THE_FACT = """CREATE OR REPLACE TABLE marts.source_coverage AS
    SELECT 'comext' AS source, period, 'AT' AS reporter, true AS is_present, 'f.7z' AS source_file,
           'sha-' || period || '-' || any_value(value_eur) AS source_sha256,
           TIMESTAMPTZ '2026-01-01' AS retrieved_at, true AS month_complete
    FROM marts.fct_eu_exports GROUP BY period"""


def month_build(settings: Settings, run_id: str, month: str, value: int) -> str:
    """What dbt does to a build for one month: replace that month of the incremental fact, rebuild a small table."""
    start = prepare_build(settings, run_id)
    with duckdb.connect(str(start.path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            "CREATE TABLE IF NOT EXISTS marts.fct_eu_exports (period DATE, reporter VARCHAR, value_eur DECIMAL(18, 2))"
        )
        con.execute("DELETE FROM marts.fct_eu_exports WHERE period = ?", [month])
        con.execute(
            "INSERT INTO marts.fct_eu_exports SELECT ?::DATE, r, ? FROM unnest(['AT', 'DE', 'FR']) AS t(r)",
            [month, value],
        )
        con.execute(
            "CREATE OR REPLACE TABLE marts.dim_summary AS SELECT period, sum(value_eur) AS total "
            "FROM marts.fct_eu_exports GROUP BY period"
        )
        con.execute(COVERAGE_OF_THE_FACT)
    publish(settings, run_id, window=(month, month), checks_passed=[], checks_warned=[])
    return start.how


def published_rows(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        return con.execute(
            """SELECT f.period, f.reporter, f.value_eur, s.total FROM marts.fct_eu_exports AS f
               JOIN marts.dim_summary AS s USING (period) ORDER BY ALL"""
        ).fetchall()


def test_publications_take_turns_and_copy_only_the_months_that_changed(settings: Settings) -> None:
    assert month_build(settings, "r1", "2024-01-01", 10) == "empty"
    # No base yet (publication 1 had nothing to replace): the second run starts from a full copy.
    assert month_build(settings, "r2", "2024-02-01", 20) == "copied"
    assert base_path(settings).exists()  # publication 1, kept as the next base
    # The third run takes publication 1 and brings it up to publication 2 by copying February only.
    assert month_build(settings, "r3", "2024-03-01", 30) == "synced"
    assert month_build(settings, "r4", "2024-02-01", 21) == "synced"  # a revised February
    assert month_build(settings, "r5", "2024-04-01", 40) == "synced"  # base = publication 3: must get the revision
    rows = published_rows(settings)
    assert [(str(p), float(v)) for p, r, v, _ in rows if r == "AT"] == [
        ("2024-01-01", 10.0),
        ("2024-02-01", 21.0),
        ("2024-03-01", 30.0),
        ("2024-04-01", 40.0),
    ]
    assert all(float(total) == 3 * float(v) for _, _, v, total in rows)
    assert latest_publication_id(settings.published_warehouse) == 5


def running_build(settings: Settings, run_id: str, month: str, value: int) -> None:
    """What dbt does for one month when a mart's later months depend on it (macros/window.sql's rebuilt_by): the
    month of the fact, and every month from it on of the running mart (here a running total, like a lag window)."""
    start = prepare_build(settings, run_id)
    with duckdb.connect(str(start.path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE TABLE IF NOT EXISTS marts.fct_eu_exports (period DATE, value_eur DECIMAL(18, 2))")
        con.execute("CREATE TABLE IF NOT EXISTS marts.fct_mirror_flows (period DATE, running_eur DECIMAL(18, 2))")
        con.execute("DELETE FROM marts.fct_eu_exports WHERE period = ?", [month])
        con.execute("INSERT INTO marts.fct_eu_exports VALUES (?, ?)", [month, value])
        con.execute("DELETE FROM marts.fct_mirror_flows WHERE period >= ?", [month])
        con.execute(
            """INSERT INTO marts.fct_mirror_flows
               SELECT period, sum(value_eur) OVER (ORDER BY period) FROM marts.fct_eu_exports
               QUALIFY period >= ?""",
            [month],
        )
        con.execute(COVERAGE_OF_THE_FACT)
    publish(settings, run_id, window=(month, month), checks_passed=[], checks_warned=[])


def test_the_sync_copies_the_later_months_a_revision_rebuilt(settings: Settings) -> None:
    """A revised January changes February and March of a mart whose months depend on earlier months: the next
    run's base (publication N-1) must take those months from publication N too, not January alone."""
    for run_id, month, value in (("r1", "2024-01-01", 1), ("r2", "2024-02-01", 2), ("r3", "2024-03-01", 4)):
        running_build(settings, run_id, month, value)
    running_build(settings, "r4", "2024-01-01", 10)  # revised January: base = publication 2, synced to 3
    running_build(settings, "r5", "2024-04-01", 8)  # base = publication 3, synced to 4: must get r4's Feb, Mar
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        rows = con.execute("SELECT period::VARCHAR, running_eur::INTEGER FROM marts.fct_mirror_flows ORDER BY 1")
        assert rows.fetchall() == [("2024-01-01", 10), ("2024-02-01", 12), ("2024-03-01", 16), ("2024-04-01", 24)]


def test_a_base_held_open_or_left_dirty_is_not_reused(settings: Settings) -> None:
    month_build(settings, "r1", "2024-01-01", 10)
    month_build(settings, "r2", "2024-02-01", 20)
    # An analyst's process still reads the previous publication, now the base: the next run must not write into it.
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('SELECT count(*) FROM marts.fct_eu_exports').fetchall()[0][0], flush=True); "
            "time.sleep(60)",
            str(base_path(settings)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "3"
        assert month_build(settings, "r3", "2024-03-01", 30) == "copied"
    finally:
        reader.kill()
        reader.wait()
    # A run that claims the base and fails leaves no base behind: the next one starts from a full copy.
    prepare_build(settings, "failed")
    assert not base_path(settings).exists()
    assert month_build(settings, "r4", "2024-04-01", 40) == "copied"
    assert len(published_rows(settings)) == 12


def test_a_base_that_does_not_match_after_the_sync_is_replaced_by_a_full_copy(settings: Settings) -> None:
    month_build(settings, "r1", "2024-01-01", 10)
    month_build(settings, "r2", "2024-02-01", 20)
    # The base is publication 1, but its marker claims publication 2: the sync copies no month, the row counts
    # disagree with the publication, and the run must start from a full copy rather than from a wrong base.
    (settings.build_dir / "base.json").write_text('{"publication_id": 2}')
    start = prepare_build(settings, "r3")
    assert start.how == "copied" and "could not be brought up to date" in start.detail
    assert "fct_eu_exports" in start.detail
    with duckdb.connect(str(start.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_eu_exports").fetchall() == [(6,)]


def test_incremental_tables_whose_columns_changed_are_named_for_a_full_rebuild(
    settings: Settings, tmp_path: Path
) -> None:
    """An upgrade that adds a column to a month-partitioned mart: dbt cannot append to the old table, so the run
    must rebuild every month; a table with exactly its documented columns, or one dbt does not build, is left."""
    import json

    from orchestration.lib.dbt_manifest import ensure_manifest

    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    columns = {n["alias"]: list(n["columns"]) for n in nodes if n["resource_type"] == "model"}
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        for table, extra in (("fct_eu_exports", []), ("fct_partner_trade", ["legacy_column"])):
            cols = ", ".join(f'"{c}" VARCHAR' for c in [*columns[table], *extra])
            con.execute(f"CREATE TABLE marts.{table} ({cols})")
        partner = [c for c in columns["fct_partner_trade"] if c != "is_export_restricted"]
        con.execute(f"CREATE TABLE marts.fct_eu_exports_by_destination ({', '.join(f'{c} VARCHAR' for c in partner)})")
        con.execute("CREATE TABLE marts.not_a_dbt_model (x INTEGER)")
    assert incremental_schema_drift(settings, build) == [
        "marts.fct_eu_exports_by_destination",
        "marts.fct_partner_trade",
    ]
    # A published build (it has a publication log) without an incremental mart: an upgrade added the mart, and
    # building only this run's months into it would leave its history empty.
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE TABLE marts.publication_log (publication_id INTEGER)")
    drifted = incremental_schema_drift(settings, build)
    assert {"marts.fct_eu_exports_by_destination", "marts.fct_mirror_flows", "marts.fct_substitution"} <= set(drifted)
    assert "marts.fct_eu_exports" not in drifted


def test_the_python_baseline_defaults_are_dbts() -> None:
    """The sync and the checks find the rebuilt months with the baseline dbt uses: the same variables, the same
    defaults."""
    import re

    from orchestration.lib.config import DBT_PROJECT_DIR, DEFAULT_BASELINE

    text = (DBT_PROJECT_DIR / "dbt_project.yml").read_text()
    found = tuple(
        re.search(rf"env_var\('MIRROR_TRADE_BASELINE_{which}', '([0-9-]+)'\)", text).group(1)
        for which in ("START", "END")
    )
    assert found == DEFAULT_BASELINE


def test_a_run_touching_the_baseline_is_synced_from_the_baseline_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A late baseline month changes the baseline of every row, the earlier baseline months' rows included."""
    from datetime import date

    from orchestration.lib.config import rebuilt_from
    from orchestration.lib.publish.publication import IncrementalTable, _sync_predicate

    monkeypatch.setenv("MIRROR_TRADE_BASELINE_START", "2020-01-01")
    monkeypatch.setenv("MIRROR_TRADE_BASELINE_END", "2020-12-01")
    assert rebuilt_from(date(2020, 8, 1)) == date(2020, 1, 1)
    assert rebuilt_from(date(2021, 3, 1)) == date(2021, 3, 1)
    later = IncrementalTable("period", True)
    assert _sync_predicate(later, [(date(2020, 8, 1), date(2020, 8, 1))]) == ("period >= ?", [date(2020, 1, 1)])
    window_only = IncrementalTable("period", False)
    assert _sync_predicate(window_only, [(date(2020, 8, 1), date(2020, 8, 1))])[1] == [date(2020, 8, 1)] * 2


def test_every_model_that_selects_its_rebuilt_months_is_rebuilt_by_month() -> None:
    """A model that filters on the run's rebuilt months (in_rebuilt_months / in_rebuilt_years) but is a plain table
    would keep only those months after each run: each such model must replace them (macros/window.sql's
    rebuilt_by)."""
    import json

    from orchestration.lib.dbt_manifest import ensure_manifest

    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    filtering = {
        n["alias"]
        for n in nodes
        if n["resource_type"] == "model"
        and ("in_rebuilt_months(" in n["raw_code"] or "in_rebuilt_years(" in n["raw_code"])
    }
    rebuilt = {t for (_, t), kept in incremental_tables().items() if kept.later_periods_depend}
    assert "fct_unrecorded_exports_by_country" in filtering
    assert filtering - rebuilt == set()
