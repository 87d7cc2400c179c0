"""MIRROR_TRADE_DBT_TARGET: which dbt target the pipeline builds on, and what a Spark run says when it stops."""

from __future__ import annotations

import pytest
import yaml

from orchestration.lib.config import DBT_PROJECT_DIR, DBT_TARGETS, SPARK_BUILD_ONLY, ConfigError, load_settings


def test_duckdb_build_is_the_default_and_spark_is_chosen_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIRROR_TRADE_DBT_TARGET", raising=False)
    assert load_settings().dbt_target == "build"
    monkeypatch.setenv("MIRROR_TRADE_DBT_TARGET", "spark")
    assert load_settings().dbt_target == "spark"


def test_an_unknown_target_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRROR_TRADE_DBT_TARGET", "snowflake")
    with pytest.raises(ConfigError, match=r"MIRROR_TRADE_DBT_TARGET='snowflake' is not a target .*\(build, spark\)"):
        load_settings()


def test_every_target_the_pipeline_accepts_is_in_profiles_yml() -> None:
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["mirror_trade"]
    assert set(DBT_TARGETS) <= set(profile["outputs"])
    assert profile["outputs"]["spark"]["type"] == "spark"
    assert profile["outputs"]["spark"]["method"] == "session"


def test_a_spark_run_says_it_publishes_nothing_and_where_its_tables_are() -> None:
    message = SPARK_BUILD_ONLY.format(window="2022-01..2022-02")
    assert "built on Spark (2022-01..2022-02)" in message
    assert "publishes nothing" in message
    assert "MIRROR_TRADE_SPARK_DIR/warehouse" in message and "docs/scale-out.md" in message
