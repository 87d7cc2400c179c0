"""Great Expectations suites on the marts, as blocking asset checks on the run's private build warehouse."""

from dataclasses import dataclass
from datetime import date
from functools import cache

import dagster as dg
import duckdb

from orchestration.lib.config import duckdb_connection, load_settings, rebuilt_from
from orchestration.lib.progress import progress_line
from orchestration.lib.publish.publication import build_path, incremental_tables
from orchestration.lib.quality.expectations import SuiteResult, validate_relation


@dataclass(frozen=True)
class MartSuite:
    name: str  # the table in schema marts, and the suite in expectations/
    # Compare a month's row count with the previous month's (Comext); partner releases vary too much for that.
    row_count_band: bool
    # A month may have no rows (no partner has released it yet).
    allow_empty: bool
    # What the suite is validated by: each month the run rebuilt ("period"), each year it rebuilt ("year": the
    # yearly measures), or the whole table at once (None: reference dimensions).
    grain: str | None = "period"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(["marts", self.name])

    @property
    def table(self) -> str:
        return f"marts.{self.name}"


MART_SUITES = (
    # A window can hold no Comext month when its only month was quarantined or unavailable (contained).
    MartSuite("fct_eu_exports", row_count_band=True, allow_empty=True),
    MartSuite("fct_partner_trade", row_count_band=False, allow_empty=True),
    MartSuite("fct_mirror_flows", row_count_band=False, allow_empty=True),
    MartSuite("fct_transit_to_russia", row_count_band=False, allow_empty=True),
    MartSuite("fct_russia_mirror_imports", row_count_band=False, allow_empty=True),
    MartSuite("fct_circumvention_signals", row_count_band=False, allow_empty=True),
    MartSuite("fct_eu_exports_by_destination", row_count_band=False, allow_empty=True),
    MartSuite("signal_coverage", row_count_band=False, allow_empty=True),
    MartSuite("fct_unit_values", row_count_band=False, allow_empty=True),
    MartSuite("fct_substitution", row_count_band=False, allow_empty=True, grain="year"),
    MartSuite("fct_substitution_by_country", row_count_band=False, allow_empty=True, grain="year"),
    MartSuite("fct_unrecorded_exports", row_count_band=False, allow_empty=True, grain="year"),
    MartSuite("fct_unrecorded_exports_by_country", row_count_band=False, allow_empty=True, grain="year"),
    MartSuite("fct_trade_routes", row_count_band=False, allow_empty=True),
    MartSuite("fct_route_member_states", row_count_band=False, allow_empty=True, grain="year"),
    MartSuite("dim_products", row_count_band=False, allow_empty=False, grain=None),
)


@cache
def _later_dependent_marts() -> frozenset[str]:
    """The marts whose rows depend on other months, read once per process from the dbt manifest (every mart's
    check would otherwise parse it again)."""
    return frozenset(
        t for (schema, t), kept in incremental_tables().items() if schema == "marts" and kept.later_periods_depend
    )


def _rebuilt(op: dg.OpExecutionContext, mart: MartSuite) -> tuple[str, list]:
    """The months (years) of the mart this run rebuilt: the run's months; for a mart whose later months depend on
    earlier ones (macros/window.sql's rebuilt_by), every month (year) from the run's first on, the rule the
    publication's sync follows too. A run without a partition range checks the whole mart."""
    if not op.has_partition_key_range:
        return "true", []
    start, end = op.partition_key_range.start[:10], op.partition_key_range.end[:10]
    later = mart.name in _later_dependent_marts()
    if later:
        start = rebuilt_from(date.fromisoformat(start)).isoformat()
    if mart.grain == "year":
        first, last = int(start[:4]), int(end[:4])
        return ("year >= ?", [first]) if later else ("year BETWEEN ? AND ?", [first, last])
    return ("period >= ?", [start]) if later else ("period BETWEEN ? AND ?", [start, end])


def _months(con: duckdb.DuckDBPyConnection, op: dg.OpExecutionContext, mart: MartSuite) -> list:
    where, args = _rebuilt(op, mart)
    return [
        r[0] for r in con.execute(f"SELECT DISTINCT period FROM {mart.table} WHERE {where} ORDER BY 1", args).fetchall()
    ]


def _validate_whole(con: duckdb.DuckDBPyConnection, op: dg.OpExecutionContext, mart: MartSuite) -> list[SuiteResult]:
    """Year-grain marts year by year (the years the run rebuilt), or a reference table at once."""
    if mart.grain is None:
        rows = con.execute(f"SELECT count(*) FROM {mart.table}").fetchone()[0]
        return [
            validate_relation(
                con,
                f"SELECT * FROM {mart.table}",
                suite_name=mart.name,
                table=mart.table,
                period="all",
                parameters={},
                summary={"row_count": rows},
            )
        ]
    results = []
    where, args = _rebuilt(op, mart)
    for (year,) in con.execute(f"SELECT DISTINCT year FROM {mart.table} WHERE {where} ORDER BY 1", args).fetchall():
        rows = con.execute(f"SELECT count(*) FROM {mart.table} WHERE year = ?", [year]).fetchone()[0]
        results.append(
            validate_relation(
                con,
                f"SELECT * FROM {mart.table} WHERE year = {int(year)}",
                suite_name=mart.name,
                table=mart.table,
                period=str(year),
                parameters={"period_set": [year]},
                summary={"row_count": rows},
            )
        )
    return results


def run_mart_suite(op: dg.OpExecutionContext, mart: MartSuite) -> dg.AssetCheckResult:
    settings = load_settings()
    band = settings.row_count_band
    results: list[SuiteResult] = []
    with duckdb_connection(settings, str(build_path(settings, op.run_id)), read_only=True) as con:
        if mart.grain != "period":
            results = _validate_whole(con, op, mart)
        for month in _months(con, op, mart) if mart.grain == "period" else []:
            rows, previous = con.execute(
                f"""SELECT count(*) FILTER (WHERE period = ?), count(*) FILTER (WHERE period = ? - INTERVAL 1 MONTH)
                    FROM {mart.table}""",
                [month, month],
            ).fetchone()
            summary = {"row_count": rows}
            if mart.row_count_band:
                summary["row_count_vs_previous"] = rows / previous if previous else None
            results.append(
                validate_relation(
                    con,
                    f"SELECT * FROM {mart.table} WHERE period = DATE '{month}'",
                    suite_name=mart.name,
                    table=mart.table,
                    period=month.strftime("%Y-%m"),
                    parameters={"period_set": [month], "min_ratio": 1 / band, "max_ratio": band},
                    summary=summary,
                )
            )
    for result in results:
        op.log.info(result.describe())
    failures = [r.describe() for r in results if not r.success]
    empty_ok = mart.allow_empty and not results
    verdict = "failed" if failures else ("passed" if results or empty_ok else f"failed: no months in {mart.table}")
    checked = [r.period for r in results]
    span = f" ({checked[0]}{'..' + checked[-1] if len(checked) > 1 else ''})" if checked else ""
    progress_line(op.log, f"check gx_{mart.name}: {verdict}{span}")
    return dg.AssetCheckResult(
        passed=(bool(results) or empty_ok) and not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(failures) if failures else (None if results else f"no months in {mart.table}"),
        metadata={
            "months_checked": ",".join(r.period for r in results),
            "rows_checked": sum(r.rows for r in results),
            "failures": dg.MetadataValue.json(failures),
        },
    )


def _mart_check(mart: MartSuite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=mart.key,
        name=f"gx_{mart.name}",
        blocking=True,
        description=f"Great Expectations suite expectations/{mart.name}.json, month by month of the run's window.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return run_mart_suite(context.op_execution_context, mart)

    return _check


mart_checks = [_mart_check(mart) for mart in MART_SUITES]
