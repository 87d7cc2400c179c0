"""Publication guards: a stale build is never published; one run per home at a time."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import Settings
from orchestration.lib.publication import PublicationError, latest_publication_id, prepare_build, publish


def fake_build(settings: Settings, run_id: str) -> Path:
    """A build file with the marts publication needs (as dbt would leave them)."""
    build = prepare_build(settings, run_id)
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
    assert not (settings.build_dir / "run-r1.duckdb").exists()
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
