"""The same dbt project on Spark: two months of the bundled sample built on DuckDB (the offline demo's pipeline run,
published) and on Spark (dbt-spark, a local pyspark session over the same parquet lake), every mart compared row
for row.

Money is DECIMAL on both engines and must agree exactly (to the cent; Comtrade amounts to their four decimals).
Ratios, shares and every other non-integer number are compared to a relative tolerance of 1e-9 (DuckDB divides
decimals as DOUBLE, Spark as DECIMAL: the same rounded value either way). Needs Java 17+ (pyspark); without it the
test is skipped on a developer's machine and fails under CI=true, where .ci/run installs a JRE.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib.config import DBT_PROJECT_DIR

BIN = Path(sys.executable).parent
START, END = "2021-12", "2022-01"  # a baseline month and the first after it, across the HS2017/HS2022 break
# A column that depends on the clock at build time, not on the data: the two builds run minutes apart.
CLOCK_COLUMNS = {("source_coverage", "days_since_retrieval")}
# Not built on Spark yet: Spark inlines every common table expression into each of its references, and the routes'
# CTEs are read many times over (reporting, legs, candidates, resolved), so fct_trade_routes' plan filled a 3 GB
# driver and did not finish; fct_route_member_states reads it. docs/scale-out.md says what remains.
NOT_YET_ON_SPARK = {"fct_trade_routes", "fct_route_member_states"}
# Marts the two months must fill: an empty comparison proves nothing.
MUST_HAVE_ROWS = {
    "fct_eu_exports",
    "fct_partner_trade",
    "dim_fx_monthly",
    "dim_products",
    "source_coverage",
    "fct_mirror_flows",
    "fct_transit_to_russia",
    "fct_russia_mirror_imports",
}


def _java_missing() -> str | None:
    java = shutil.which("java")
    if java is None:
        return "no `java` on PATH: pyspark needs Java 17+ (apt-get install default-jre-headless)"
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return None if version else f"{java} -version printed nothing"


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
    demo = subprocess.run(
        [str(BIN / "mirror-trade"), "demo", "--start", START, "--end", END],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    timings["duckdb_pipeline_s"] = time.monotonic() - began
    began = time.monotonic()
    spark = subprocess.run(
        [
            str(BIN / "dbt"),
            "build",
            "--target",
            "spark",
            "--resource-type",
            "seed",
            "--resource-type",
            "model",
            "--exclude",
            "fct_trade_routes+",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
            "--vars",
            json.dumps({"min_period": f"{START}-01", "max_period": f"{END}-01"}),
        ],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert spark.returncode == 0, spark.stdout[-6000:] + spark.stderr[-3000:]
    timings["spark_build_s"] = time.monotonic() - began
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    marts = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    )
    print(f"\nspark comparison timings: {timings}")
    return {"warehouse": home / "published" / "warehouse.duckdb", "spark": root / "spark" / "warehouse", "marts": marts}


def _key(value: Any) -> tuple:
    """Sort key that orders NULLs, numbers, text and lists alike on both sides."""
    if value is None:
        return (0, "")
    if isinstance(value, float | Decimal | int) and not isinstance(value, bool):
        return (1, f"{float(value):.6e}")
    return (2, str(value))


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.timestamp() == b.timestamp()
    if isinstance(a, date) and isinstance(b, date):
        return a == b
    return a == b


def test_every_mart_built_on_spark_equals_the_duckdb_build_row_for_row(builds: dict[str, Any]) -> None:
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
    assert set(builds["marts"]) >= NOT_YET_ON_SPARK
    assert set(builds["marts"]) - NOT_YET_ON_SPARK == on_spark, "Spark's marts differ from the manifest's"
    assert set(builds["marts"]) <= published, "the DuckDB publication lacks marts of the manifest"
    compared = {}
    for mart in sorted(on_spark):
        duck = con.execute(f"SELECT * FROM duck.marts.{mart}")
        duck_cols = [d[0] for d in duck.description]
        duck_rows = duck.fetchall()
        if not any((builds["spark"] / "marts.db" / mart).rglob("*.parquet")):
            # a partitioned Spark table without rows writes no file (the month-rebuilt marts are partitioned)
            assert not duck_rows, f"{mart}: {len(duck_rows)} rows on DuckDB, none on Spark"
            compared[mart] = 0
            continue
        spark = con.execute(
            f"SELECT * FROM read_parquet('{builds['spark']}/marts.db/{mart}/**/*.parquet', hive_partitioning = true)"
        )
        spark_cols = [d[0] for d in spark.description]
        spark_rows = spark.fetchall()
        assert sorted(duck_cols) == sorted(spark_cols), f"{mart}: columns differ"
        cols = [c for c in duck_cols if (mart, c) not in CLOCK_COLUMNS]
        at = {c: spark_cols.index(c) for c in cols}
        duck_norm = sorted(
            ([row[duck_cols.index(c)] for c in cols] for row in duck_rows), key=lambda r: [_key(v) for v in r]
        )
        spark_norm = sorted(([row[at[c]] for c in cols] for row in spark_rows), key=lambda r: [_key(v) for v in r])
        assert len(duck_norm) == len(spark_norm), f"{mart}: {len(duck_norm)} rows on DuckDB, {len(spark_norm)} on Spark"
        for d, s in zip(duck_norm, spark_norm, strict=True):
            diffs = [(c, x, y) for c, x, y in zip(cols, d, s, strict=True) if not _same(x, y)]
            assert not diffs, f"{mart}: row {dict(zip(cols, d, strict=True))} differs on Spark: {diffs}"
        compared[mart] = len(duck_norm)
    print(f"rows compared per mart: {compared}")
    empty = sorted(m for m in MUST_HAVE_ROWS if not compared.get(m))
    assert not empty, f"marts with no rows to compare: {empty}"
    assert sum(compared.values()) > 1000
