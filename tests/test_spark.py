"""The same dbt project on Spark: two months of the bundled sample built on DuckDB (the offline demo's pipeline, one
run a month, published) and on Spark (dbt-spark, a local pyspark session over the same parquet lake, in one
`dbt build` with every data test and unit test), every mart compared row for row.

The months are 2021-01 (a baseline month) and 2022-01 (the first month after the baseline, across the HS2017/HS2022
break): 2022-01 has a matched baseline month, so every research measure, the ranking and the routes have rows to
compare. The comparison runs in DuckDB (the published file attached, Spark's parquet tables read directly): money
is DECIMAL on both engines and must agree exactly (to the cent; Comtrade amounts to their four decimals); every
floating-point column is compared to 10 significant digits (DuckDB divides decimals as DOUBLE, Spark as DECIMAL:
the same value rounded to 6 decimals either way). Needs Java 17+ (pyspark); without it the test is skipped on a
developer's machine and fails under CI=true, where .ci/run installs a JRE.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib.config import DBT_PROJECT_DIR

BIN = Path(sys.executable).parent
MONTHS = ("2021-01", "2022-01")  # a baseline month and the same calendar month after it
# A column that depends on the clock at build time, not on the data: the two builds run minutes apart.
CLOCK_COLUMNS = {("source_coverage", "days_since_retrieval")}
# Marts the two months may leave empty: the sample's first release of a month revises nothing.
MAY_BE_EMPTY = {"fct_revisions"}
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def _java_missing() -> str | None:
    java = shutil.which("java")
    if java is None:
        return "no `java` on PATH: pyspark needs Java 17+ (apt-get install default-jre-headless)"
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return None if version else f"{java} -version printed nothing"


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    missing = _java_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {missing}; .ci/run installs it")
        pytest.skip(missing)
    root = tmp_path_factory.mktemp("spark")
    home = root / "home"
    env = {
        **{k: v for k, v in os.environ.items() if k != "COMTRADE_API_KEY"},
        "MIRROR_TRADE_HOME": str(home),
        "MIRROR_TRADE_DEMO_OFFLINE": "1",
        "DAGSTER_HOME": str(home / "dagster"),
        "MIRROR_TRADE_SPARK_DIR": str(root / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    timings = {}
    began = time.monotonic()
    for month in MONTHS:  # one pipeline run a month, as a nightly publishes them
        demo = _run([str(BIN / "mirror-trade"), "demo", "--start", month, "--end", month], env, root, 900)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    timings["duckdb_pipeline_s"] = round(time.monotonic() - began, 1)
    began = time.monotonic()
    # Everything on Spark in one build: seeds, models, every data test and every unit test.
    spark = _run(
        [
            str(BIN / "dbt"),
            "build",
            "--target",
            "spark",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
            "--vars",
            json.dumps({"min_period": f"{MONTHS[0]}-01", "max_period": f"{MONTHS[-1]}-01"}),
        ],
        env,
        root,
        1800,
    )
    assert spark.returncode == 0, spark.stdout[-6000:] + spark.stderr[-3000:]
    timings["spark_build_s"] = round(time.monotonic() - began, 1)
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    print(f"\nspark comparison timings: {timings}")
    return {
        "warehouse": home / "published" / "warehouse.duckdb",
        "spark": root / "spark" / "warehouse",
        "manifest": manifest,
        "results": {r["unique_id"]: r["status"] for r in results},
    }


def test_every_data_test_and_unit_test_passes_on_spark(builds: dict[str, Any]) -> None:
    manifest, results = builds["manifest"], builds["results"]
    data_tests = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    unit_tests = set(manifest.get("unit_tests", {}))
    assert len(data_tests) > 150 and len(unit_tests) >= 16, (len(data_tests), len(unit_tests))
    not_run = sorted((data_tests | unit_tests) - set(results))
    assert not not_run, f"tests the Spark build did not run: {not_run[:10]}"
    # a warn-level data test may warn (it names codes to look at); nothing may fail or error
    bad = {uid: results[uid] for uid in data_tests | unit_tests if results[uid] not in {"pass", "warn"}}
    assert not bad, f"tests that did not pass on Spark: {bad}"
    warned = {uid for uid in data_tests if results[uid] == "warn"}
    assert all(manifest["nodes"][uid]["config"]["severity"].lower() == "warn" for uid in warned), warned
    assert all(results[uid] == "pass" for uid in unit_tests)


def _normalised(relation: str, columns: list[str], floats: set[str]) -> str:
    """A SELECT of `columns` from `relation` in which a floating-point column keeps 10 significant digits. (Instants
    need nothing: DuckDB reads Spark's TIMESTAMP_MICROS columns as TIMESTAMP WITH TIME ZONE, as it stores its own.)"""
    exprs = []
    for c in columns:
        q = f'"{c}"'
        if c in floats:
            exprs.append(
                f"CASE WHEN {q} IS NULL OR {q} = 0 OR NOT isfinite(CAST({q} AS DOUBLE)) THEN CAST({q} AS DOUBLE) "
                f"ELSE round(CAST({q} AS DOUBLE), 9 - CAST(floor(log10(abs(CAST({q} AS DOUBLE)))) AS INTEGER)) END"
                f" AS {q}"
            )
        else:
            exprs.append(q)
    return f"SELECT {', '.join(exprs)} FROM {relation}"


def test_every_mart_built_on_spark_equals_the_duckdb_build_row_for_row(builds: dict[str, Any]) -> None:
    marts = sorted(
        node["name"]
        for node in builds["manifest"]["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{builds['warehouse']}' AS duck (READ_ONLY)")
    published = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'duck' AND table_schema = 'marts'"
        ).fetchall()
    }
    on_spark = {p.name for p in (builds["spark"] / "marts.db").iterdir() if p.is_dir()}
    assert set(marts) == on_spark, "Spark's marts differ from the manifest's"
    assert set(marts) <= published, "the DuckDB publication lacks marts of the manifest"
    compared = {}
    for mart in marts:
        duck_types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = 'duck' AND table_schema = 'marts' AND table_name = ?",
                [mart],
            ).fetchall()
        )
        files = f"{builds['spark']}/marts.db/{mart}/**/*.parquet"
        if not any((builds["spark"] / "marts.db" / mart).rglob("*.parquet")):
            # a partitioned Spark table without rows writes no file (the month-rebuilt marts are partitioned)
            rows = con.execute(f"SELECT count(*) FROM duck.marts.{mart}").fetchone()[0]
            assert rows == 0, f"{mart}: {rows} rows on DuckDB, none on Spark"
            compared[mart] = 0
            continue
        spark_relation = f"read_parquet('{files}', hive_partitioning = true)"
        spark_types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {spark_relation}").fetchall()}
        assert sorted(duck_types) == sorted(spark_types), f"{mart}: columns differ"
        cols = [c for c in duck_types if (mart, c) not in CLOCK_COLUMNS]
        floats = {c for c in cols if duck_types[c] in FLOAT_TYPES or spark_types[c] in FLOAT_TYPES}
        duck_sql = _normalised(f"duck.marts.{mart}", cols, floats)
        spark_sql = _normalised(spark_relation, cols, floats)
        counts = con.execute(f"SELECT (SELECT count(*) FROM ({duck_sql})), (SELECT count(*) FROM ({spark_sql}))")
        duck_rows, spark_rows = counts.fetchone()
        # EXCEPT ALL both ways: equal multisets of rows, duplicates counted (so equal row counts too)
        only_duck = con.execute(f"({duck_sql}) EXCEPT ALL ({spark_sql}) LIMIT 5").fetchall()
        only_spark = con.execute(f"({spark_sql}) EXCEPT ALL ({duck_sql}) LIMIT 5").fetchall()
        assert not only_duck and not only_spark, (
            f"{mart}: {duck_rows} rows on DuckDB, {spark_rows} on Spark; columns {cols}\n"
            f"only on DuckDB (up to 5): {only_duck}\nonly on Spark (up to 5): {only_spark}"
        )
        compared[mart] = duck_rows
    print(f"rows compared per mart: {compared}")
    empty = sorted(m for m in marts if not compared[m] and m not in MAY_BE_EMPTY)
    assert not empty, f"marts with no rows to compare: {empty}"
    assert sum(compared.values()) > 10_000
