"""What a row costs on Spark against DuckDB, for docs/scale-out.md's estimate of the full world mirror.

    python -m benchmarks.spark                    # the bundled sample's 18 months (about 15 minutes)
    python -m benchmarks.spark --end 2021-12      # a shorter window

Both engines build the same dbt project (seeds and models, no tests) from the same parquet lake: the offline demo's
home for the window (built once with `mirror-trade demo`, cached in benchmarks/work/spark-home/), each build from
empty (`--full-refresh` into a new DuckDB file, a new Spark warehouse). Each engine builds twice, over the window's
first two months and over the whole window, each a whole process under /usr/bin/time -v; the difference between the
two, over the difference in lake rows read, is the engine's cost of one more row (core-microseconds: wall seconds
times the 2 cores), free of the fixed cost of starting dbt, Spark's JVM and each model. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from benchmarks.run import WORK, dashed, machine, timed
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.periods import months_between, next_month

BIN = Path(sys.executable).parent
# The lake tables the models read (<home>/parquet/<table>/YYYYMM/*.parquet).
LAKE = ("comext", "comtrade", "comtrade_availability", "ecb")


def lake_rows(home: Path, first: str, last: str) -> int:
    """Rows of the lake tables in the months first..last (YYYYMM), as the models read them."""
    files = [
        str(month / "*.parquet")
        for table in LAKE
        for month in (home / "parquet" / table).iterdir()
        if month.is_dir() and first <= month.name <= last
    ]
    return duckdb.connect().execute("SELECT count(*) FROM read_parquet(?, union_by_name = true)", [files]).fetchone()[0]


def build(target: str, home: Path, first: str, last: str, work: Path, log: Path) -> float:
    """One build of seeds and models from empty on `target` over first..last (YYYYMM); its wall seconds."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {
        **os.environ,
        "MIRROR_TRADE_HOME": str(home),
        "MIRROR_TRADE_BUILD_DB": str(work / "build.duckdb"),
        "MIRROR_TRADE_SPARK_DIR": str(work / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    window = {"min_period": f"{dashed(first)}-01", "max_period": f"{dashed(last)}-01"}
    argv = [
        str(BIN / "dbt"),
        "build",
        "--target",
        target,
        "--full-refresh",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps(window),
    ]
    measure, _ = timed(f"{target} {first}..{last}", argv, env, log)
    return measure.wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", default="2021-01", help="first month (YYYY-MM) of the bundled sample's window")
    parser.add_argument("--end", default="2022-06", help="last month (YYYY-MM) of the window")
    args = parser.parse_args()
    first, last = args.start.replace("-", ""), args.end.replace("-", "")
    short_last = next_month(first)
    home = WORK / "spark-home"
    log = WORK / "spark-benchmark.log"
    WORK.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    lake = home / "parquet" / "comext"
    have = {p.name for p in lake.iterdir()} if lake.is_dir() else set()
    wanted = set(months_between(args.start, args.end))
    if not wanted <= have:
        shutil.rmtree(home, ignore_errors=True)
        env = {**os.environ, "MIRROR_TRADE_HOME": str(home), "MIRROR_TRADE_DEMO_OFFLINE": "1"}
        env["DAGSTER_HOME"] = str(home / "dagster")
        print(f"building the lake: mirror-trade demo --start {args.start} --end {args.end}", flush=True)
        demo = subprocess.run(
            [str(BIN / "mirror-trade"), "demo", "--start", args.start, "--end", args.end], env=env, check=False
        )
        if demo.returncode != 0:
            raise SystemExit(f"the demo that builds the lake failed (exit {demo.returncode})")
    rows = {w: lake_rows(home, first, w) for w in (short_last, last)}
    seconds = {}
    for target in ("build", "spark"):
        for window_last in (short_last, last):
            print(f"{target}: {first}..{window_last}", flush=True)
            seconds[target, window_last] = build(target, home, first, window_last, WORK / "spark-run", log)
    cores = os.cpu_count() or 1
    print(f"\nMeasured by `python -m benchmarks.spark --start {args.start} --end {args.end}` on {machine()}.\n")
    print("| engine | months | lake rows read | seconds (whole process) | one more row, core-microseconds |")
    print("|---|---|---:|---:|---:|")
    for target, name in (("build", "DuckDB"), ("spark", "Spark local[2]")):
        marginal = (seconds[target, last] - seconds[target, short_last]) / (rows[last] - rows[short_last])
        for window_last in (short_last, last):
            per_row = f"{marginal * cores * 1e6:.1f}" if window_last == last else ""
            print(
                f"| {name} | {len(months_between(args.start, dashed(window_last)))} | {rows[window_last]:,} | "
                f"{seconds[target, window_last]:.1f} | {per_row} |"
            )


if __name__ == "__main__":
    main()
