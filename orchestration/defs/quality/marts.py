"""Great Expectations suites on the marts, as blocking asset checks on the run's private build warehouse."""

import dagster as dg
import duckdb

from orchestration.lib.config import load_settings
from orchestration.lib.expectations import validate_relation
from orchestration.lib.publication import build_path

FCT_EU_EXPORTS = dg.AssetKey(["marts", "fct_eu_exports"])


def _months(con: duckdb.DuckDBPyConnection, context: dg.AssetCheckExecutionContext) -> list:
    op = context.op_execution_context
    if op.has_partition_key_range:
        keys = op.partition_key_range
        return [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT period FROM marts.fct_eu_exports WHERE period BETWEEN ? AND ? ORDER BY 1",
                [keys.start[:10], keys.end[:10]],
            ).fetchall()
        ]
    return [r[0] for r in con.execute("SELECT DISTINCT period FROM marts.fct_eu_exports ORDER BY 1").fetchall()]


@dg.asset_check(
    asset=FCT_EU_EXPORTS,
    name="gx_fct_eu_exports",
    blocking=True,
    description="Great Expectations suite expectations/fct_eu_exports.json, month by month of the run's window.",
)
def gx_fct_eu_exports(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = load_settings()
    band = settings.row_count_band
    results = []
    with duckdb.connect(str(build_path(settings, context.op_execution_context.run_id)), read_only=True) as con:
        months = _months(con, context)
        for month in months:
            rows, previous = con.execute(
                """SELECT count(*) FILTER (WHERE period = ?),
                          count(*) FILTER (WHERE period = ? - INTERVAL 1 MONTH)
                   FROM marts.fct_eu_exports""",
                [month, month],
            ).fetchone()
            results.append(
                validate_relation(
                    con,
                    f"SELECT * FROM marts.fct_eu_exports WHERE period = DATE '{month}'",
                    suite_name="fct_eu_exports",
                    table="marts.fct_eu_exports",
                    period=month.strftime("%Y-%m"),
                    parameters={"period_set": [month], "min_ratio": 1 / band, "max_ratio": band},
                    summary={
                        "row_count": rows,
                        "row_count_vs_previous": rows / previous if previous else None,
                    },
                )
            )
    failures = [r.describe() for r in results if not r.success]
    for r in results:
        context.log.info(r.describe())
    return dg.AssetCheckResult(
        passed=bool(results) and not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(failures) if failures else (None if results else "no months to check"),
        metadata={
            "months_checked": ",".join(r.period for r in results),
            "rows_checked": sum(r.rows for r in results),
            "failures": dg.MetadataValue.json(failures),
        },
    )
