"""Run the Great Expectations suites in `expectations/` against DuckDB data, one month at a time.

GX cannot validate DuckDB through SQLAlchemy here (duckdb_engine returns empty results once GX closes its
connection), and a month of Comext is 5 million rows: far too many to push through pandas. So DuckDB reduces the
month to what each expectation must see, and GX evaluates that reduced frame (`reduce_relation`):
- a column checked against a set or a pattern (in_set, regex): its distinct values, each with its row count;
- a column checked only for range, nulls or type (between, not_null, of_type): its minimum, its maximum, and one
  NULL if it has any;
- a compound key checked for uniqueness: the keys that occur more than once;
- the table's column list: the relation's own schema.
A value fails on the reduced frame exactly when it fails on some row, so pass and fail are the same as on the full
month; the number of failing rows is then counted by DuckDB (row counts of the failing distinct values, a count
query for a range, the null count). An expectation type the reducer does not know is refused, never skipped.

A suite's expectations carry `meta.scope`:
- `rows` (default): evaluated on the reduced month as above.
- `summary`: evaluated once on a one-row frame of month-level facts (row count and its ratio to the previous
  month, reporter count).
Suites may use `{"$PARAMETER": "name"}` values, filled from the caller's parameters (e.g. the partition month).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from orchestration.lib.config import EXPECTATIONS_DIR

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd


def _gx():
    """Great Expectations takes seconds to import: only the processes that validate pay for it (a nightly release
    check that finds nothing new never does)."""
    import great_expectations

    return great_expectations


# What the reducer does for each expectation type (see the module docstring).
DISTINCT_TYPES = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_strftime_format",
    "expect_column_value_lengths_to_be_between",
}
EXTREME_TYPES = {
    "expect_column_values_to_be_between",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_type_list",
}
TABLE_TYPES = {
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_column_to_exist",
}
UNIQUE_TYPES = {"expect_compound_columns_to_be_unique"}
DUPLICATE_EXAMPLES = 20


@dataclass
class SuiteResult:
    suite: str
    table: str
    period: str
    rows: int
    evaluated: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        head = f"GX suite {self.suite} on {self.table} for {self.period}"
        if self.success:
            return f"{head}: {self.evaluated} expectations passed on {self.rows:,} rows"
        return f"{head}: {len(self.failures)} of {self.evaluated} expectations FAILED: " + "; ".join(self.failures)


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def load_suite_json(name: str) -> dict:
    path = suite_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no Great Expectations suite {name!r} at {path}")
    return json.loads(path.read_text())


_CONTEXT_LOCK = threading.Lock()


def warm_up() -> None:
    """Start Great Expectations (seconds of imports and an ephemeral context) on a second thread, while the caller
    downloads, unpacks and parses (which release the GIL): by the time the month is checked it is ready, and a
    run pays for it once, overlapped, instead of before its first check."""
    threading.Thread(target=_context, name="gx-warm-up", daemon=True).start()


def _context():
    with _CONTEXT_LOCK:  # the warm-up thread and the first check must not build two contexts
        return _new_context()


@cache
def _new_context():
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = _gx().get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("duckdb_batches")
    return source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("whole")


def _scope(expectation: dict) -> str:
    return expectation.get("meta", {}).get("scope", "rows")


def _gx_suite(name: str, expectations: list[dict]) -> gx.ExpectationSuite:
    return _gx().ExpectationSuite(name=name, expectations=expectations)


def _describe_failure(result) -> str:
    config = result.expectation_config
    kwargs = {
        k: v for k, v in config.kwargs.items() if k in ("column", "column_list", "regex", "min_value", "max_value")
    }
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    res = result.result or {}
    detail = ""
    if "unexpected_count" in res:
        examples = []
        for value in res.get("partial_unexpected_list") or []:
            if value not in examples:  # the reduced frame repeats values to pad columns
                examples.append(value)
        detail = f": {res['unexpected_count']:,} unexpected rows, e.g. {examples[:5]}"
    elif "observed_value" in res:
        detail = f": observed {res['observed_value']!r}"
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail += f" (error: {result.exception_info.get('exception_message')})"
    return f"{config.type}({args}){detail}"


def _validate_frame(suite: gx.ExpectationSuite, frame: pd.DataFrame, parameters: dict) -> list:
    batch = _context().get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, expectation_parameters=parameters, result_format="COMPLETE").results


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _resolve(value, parameters: dict):
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


@dataclass
class ReducedMonth:
    """What GX sees of a month, and what DuckDB knows to count failing rows with."""

    rows: int
    frame: pd.DataFrame  # every column of the relation, reduced values in the columns that are checked
    weights: dict[str, list[int]]  # column -> the number of rows behind each reduced value (0 for padding)
    nulls: dict[str, int]
    duplicates: dict[tuple[str, ...], tuple[pd.DataFrame, int]]  # key -> (repeated keys, rows in duplicate keys)


def _check_reducible(expectations: list[dict]) -> None:
    known = DISTINCT_TYPES | EXTREME_TYPES | TABLE_TYPES | UNIQUE_TYPES
    for e in expectations:
        if e["type"] not in known:
            raise ValueError(f"expectation {e['type']} cannot be reduced to aggregates: teach expectations.py")
        if e["kwargs"].get("mostly", 1) != 1:
            raise ValueError(f"{e['type']}(mostly=...) needs every row; the reducer only supports mostly=1")


def reduce_relation(cur: duckdb.DuckDBPyConnection, relation_sql: str, expectations: list[dict]) -> ReducedMonth:
    """DuckDB aggregates of one month: a handful of column scans, never the rows themselves."""
    _check_reducible(expectations)
    rel = f"({relation_sql}) AS r"
    schema = cur.sql(f"SELECT * FROM {rel} LIMIT 0").to_arrow_table().schema
    distinct = sorted({e["kwargs"]["column"] for e in expectations if e["type"] in DISTINCT_TYPES})
    extreme = sorted(
        {e["kwargs"]["column"] for e in expectations if e["type"] in EXTREME_TYPES} - set(distinct),
    )
    missing = [c for c in distinct + extreme if c not in schema.names]
    present = [c for c in extreme if c in schema.names]
    aggregates = ", ".join(f"min({_q(c)}), max({_q(c)}), count({_q(c)})" for c in present)
    totals = cur.execute(f"SELECT count(*){', ' + aggregates if aggregates else ''} FROM {rel}").fetchall()[0]
    rows = totals[0]
    values: dict[str, pa.Array] = {}
    weights: dict[str, list[int]] = {}
    nulls: dict[str, int] = {}
    for i, column in enumerate(present):
        low, high, non_null = totals[1 + 3 * i : 4 + 3 * i]
        nulls[column] = rows - non_null
        picked = ([low, high] if non_null else []) + ([None] if rows > non_null else [])
        values[column] = pa.array(picked, type=schema.field(column).type)
        weights[column] = ([1, 1] if non_null else []) + ([rows - non_null] if rows > non_null else [])
    for column in (c for c in distinct if c in schema.names):
        table = cur.sql(f"SELECT {_q(column)} AS v, count(*) AS n FROM {rel} GROUP BY 1 ORDER BY 1").to_arrow_table()
        values[column] = table.column("v").combine_chunks()
        weights[column] = table.column("n").to_pylist()
        nulls[column] = sum(n for v, n in zip(values[column].to_pylist(), weights[column], strict=True) if v is None)
    length = max((len(v) for v in values.values()), default=0)
    columns = []
    for field_ in schema:
        if field_.name not in values:
            columns.append(pa.nulls(length, field_.type))
            continue
        got = values[field_.name]
        if len(got) < length:
            # Padding repeats the column's own values: no expectation changes its verdict on a repeated value.
            got = pa.concat_arrays([got] * (length // len(got) + 1)).slice(0, length)
            weights[field_.name] = weights[field_.name] + [0] * (length - len(weights[field_.name]))
        columns.append(got)
    frame = pa.Table.from_arrays(columns, schema=schema).to_pandas()
    for name in missing:  # GX names a missing column itself; give it nothing to count
        weights[name] = []
    duplicates = {}
    for e in expectations:
        if e["type"] not in UNIQUE_TYPES:
            continue
        key = tuple(e["kwargs"]["column_list"])
        cols = ", ".join(_q(c) for c in key)
        all_missing = " AND ".join(f"{_q(c)} IS NULL" for c in key)
        dup = (
            f"SELECT {cols}, count(*) AS __rows FROM {rel} WHERE NOT ({all_missing}) "
            f"GROUP BY {cols} HAVING count(*) > 1"
        )
        in_duplicates = cur.execute(f"SELECT coalesce(sum(__rows), 0) FROM ({dup})").fetchall()[0][0]
        sample = cur.sql(f"SELECT {cols} FROM ({dup}) ORDER BY __rows DESC, {cols} LIMIT {DUPLICATE_EXAMPLES}")
        table = sample.to_arrow_table()
        repeated = pa.concat_tables([table, table]) if table.num_rows else table
        duplicates[key] = (repeated.to_pandas(), int(in_duplicates))
    return ReducedMonth(rows=rows, frame=frame, weights=weights, nulls=nulls, duplicates=duplicates)


def _failing_rows(
    cur: duckdb.DuckDBPyConnection, relation_sql: str, reduced: ReducedMonth, result, parameters: dict
) -> int | None:
    """How many rows of the month fail `result`'s expectation (the reduced frame only says whether any do)."""
    config = result.expectation_config
    kind, kwargs = config.type, config.kwargs
    column = kwargs.get("column")
    outcome = result.result or {}
    if kind in DISTINCT_TYPES:
        weights = reduced.weights.get(column, [])
        return sum(weights[i] for i in outcome.get("unexpected_index_list") or [] if i < len(weights))
    if kind == "expect_column_values_to_not_be_null":
        return reduced.nulls.get(column, 0)
    if kind in ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"):
        return reduced.rows - reduced.nulls.get(column, 0)
    if kind == "expect_column_values_to_be_between":
        low, high = _resolve(kwargs.get("min_value"), parameters), _resolve(kwargs.get("max_value"), parameters)
        conditions, args = [], []
        if low is not None:
            conditions.append(f"{_q(column)} {'<=' if kwargs.get('strict_min') else '<'} ?")
            args.append(low)
        if high is not None:
            conditions.append(f"{_q(column)} {'>=' if kwargs.get('strict_max') else '>'} ?")
            args.append(high)
        if not conditions:
            return None
        sql = f"SELECT count(*) FROM ({relation_sql}) AS r WHERE {' OR '.join(conditions)}"
        return cur.execute(sql, args).fetchall()[0][0]
    return None


def validate_relation(
    con: duckdb.DuckDBPyConnection,
    relation_sql: str,
    *,
    suite_name: str,
    table: str,
    period: str,
    parameters: dict,
    summary: dict,
    allow_empty: bool = False,
) -> SuiteResult:
    """Validate the rows of `relation_sql` (one month) with the suite, on DuckDB's reduction of the month. An empty
    month fails unless `allow_empty` (a source that legitimately released nothing yet)."""
    result = SuiteResult(suite=suite_name, table=table, period=period, rows=int(summary.get("row_count", 0)))
    data = load_suite_json(suite_name)
    expectations = [e for e in data["expectations"] if _scope(e) == "rows"]
    summary_expectations = [e for e in data["expectations"] if _scope(e) == "summary"]
    if expectations:
        cur = con.cursor()
        reduced = reduce_relation(cur, relation_sql, expectations)
        result.evaluated += len(expectations)
        if reduced.rows == 0 and not allow_empty:
            result.failures.append(f"{table} has no rows for {period}")
        others = [e for e in expectations if e["type"] not in UNIQUE_TYPES]
        checks: list[tuple[gx.ExpectationSuite, pd.DataFrame]] = []
        if others:
            checks.append((_gx_suite(f"{suite_name}:rows", others), reduced.frame))
        for expectation in (e for e in expectations if e["type"] in UNIQUE_TYPES):
            frame, _ = reduced.duplicates[tuple(expectation["kwargs"]["column_list"])]
            checks.append((_gx_suite(f"{suite_name}:unique", [expectation]), frame))
        for suite, frame in checks:
            for res in _validate_frame(suite, frame, parameters):
                if res.success:
                    continue
                outcome = res.result or {}
                if res.expectation_config.type in UNIQUE_TYPES:
                    key = tuple(res.expectation_config.kwargs["column_list"])
                    outcome["unexpected_count"] = reduced.duplicates[key][1]
                elif "unexpected_count" in outcome or "observed_value" not in outcome:
                    counted = _failing_rows(cur, relation_sql, reduced, res, parameters)
                    if counted is not None:
                        outcome["unexpected_count"] = counted
                        res.result = outcome
                result.failures.append(_describe_failure(res))
    if summary_expectations:
        summary_suite = _gx_suite(f"{suite_name}:summary", summary_expectations)
        import pandas as pd  # GX validates pandas frames; only the processes that check pay for the import

        for res in _validate_frame(summary_suite, pd.DataFrame([summary]), parameters):
            result.evaluated += 1
            if not res.success:
                result.failures.append(_describe_failure(res))
    return result
