"""The analyst's side: how fast the README's worked questions and three typical queries answer on a published
warehouse, through `mirror-trade sql` (a whole process, start-up included) and through a plain DuckDB client
(one connection, warm), each the median of 5 runs after one warm-up.

    python -m benchmarks.queries WAREHOUSE [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from orchestration.lib.config import REPO_ROOT

MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))
REPEATS = 5
TARGET_SECONDS = 1.0
SECTION = re.compile(r"### Worked questions\n(.*?)\n## ", re.S)
QUERY = re.compile(r"```sql\n(.*?)\n```", re.S)

# Typical questions beyond the README's (the partner and code are the most traded in any warehouse).
TYPICAL = {
    "one country's top codes over the whole history": """
        SELECT hs6, sum(value_eur) AS value_eur, count(DISTINCT period) AS months
        FROM marts.fct_eu_exports WHERE partner = (
            SELECT partner FROM marts.fct_eu_exports GROUP BY partner ORDER BY sum(value_eur) DESC LIMIT 1)
        GROUP BY hs6 ORDER BY value_eur DESC LIMIT 20""",
    "one code across all countries, month by month": """
        SELECT period, partner, sum(value_eur) AS value_eur
        FROM marts.fct_eu_exports WHERE hs6 = '854231'
        GROUP BY period, partner ORDER BY period, value_eur DESC""",
    "a mirror gap time series": """
        SELECT period, partner_country, sum(mirror_gap_usd) AS mirror_gap_usd,
               sum(mirror_gap_usd_window) AS mirror_gap_usd_window
        FROM marts.fct_mirror_flows WHERE chp_tier IS NOT NULL
        GROUP BY period, partner_country ORDER BY partner_country, period""",
}


def questions() -> dict[str, str]:
    section = SECTION.search((REPO_ROOT / "README.md").read_text())
    found = QUERY.findall(section.group(1)) if section else []
    named = {f"README worked question {i}": q for i, q in enumerate(found, 1)}
    return named | {name: " ".join(q.split()) for name, q in TYPICAL.items()}


def median_seconds(run) -> float:
    run()  # warm-up: the first read of each column from disk
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(warehouse: Path) -> list[dict]:
    env_home = warehouse.parent.parent  # <home>/published/warehouse.duckdb
    import os

    env = {**os.environ, "MIRROR_TRADE_HOME": str(env_home)}
    out = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, query in questions().items():
            rows = len(con.execute(query).fetchall())
            client = median_seconds(lambda q=query: con.execute(q).fetchall())

            def cli(q: str = query, name: str = name) -> None:
                done = subprocess.run([MIRROR_TRADE, "sql", q], env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"mirror-trade sql failed on {name!r}: {done.stderr[-500:]}")

            out.append({"query": name, "rows": rows, "duckdb_s": client, "cli_s": median_seconds(cli)})
    return out


def table(results: list[dict], warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT sum(estimated_size) FROM duckdb_tables() WHERE schema_name = 'marts'").fetchone()[0]
    size = warehouse.stat().st_size
    lines = [
        f"Warehouse {size / 2**20:.0f} MiB, {rows:,} mart rows = {size / max(rows, 1):.0f} bytes a row. Median of "
        f"{REPEATS} warm runs; target under {TARGET_SECONDS:.0f} s.",
        "",
        "| query | rows | DuckDB client s | `mirror-trade sql` s (whole process) | |",
        "|---|---:|---:|---:|---|",
    ]
    for r in results:
        ok = r["duckdb_s"] < TARGET_SECONDS and r["cli_s"] < TARGET_SECONDS
        lines.append(
            f"| {r['query']} | {r['rows']:,} | {r['duckdb_s']:.3f} | {r['cli_s']:.2f} | "
            f"{'met' if ok else '**MISSED**'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = measure(args.warehouse)
    text = table(results, args.warehouse)
    if args.out:
        args.out.write_text(text)
    print(text)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
