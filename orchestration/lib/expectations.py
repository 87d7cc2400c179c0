"""Run the Great Expectations suites in `expectations/` against DuckDB data, one month at a time.

GX cannot validate DuckDB through SQLAlchemy here (duckdb_engine returns empty results once GX closes its
connection), so rows are streamed out of DuckDB as Arrow record batches and each batch is validated as a pandas
frame: memory stays bounded by the batch size, never a whole month.

A suite's expectations carry `meta.scope`:
- `rows` (default): evaluated on every batch; unexpected counts add up across batches.
- `summary`: evaluated once on a one-row frame of month-level facts (row count and its ratio to the previous
  month, reporter count), which GX cannot see batch by batch.
Suites may use `{"$PARAMETER": "name"}` values, filled from the caller's parameters (e.g. the partition month).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.config import EXPECTATIONS_DIR

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

BATCH_ROWS = 250_000


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


@cache
def _context():
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("duckdb_batches")
    return source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("whole")


def _suite(name: str, scope: str) -> gx.ExpectationSuite | None:
    data = load_suite_json(name)
    chosen = [e for e in data["expectations"] if e.get("meta", {}).get("scope", "rows") == scope]
    if not chosen:
        return None
    return gx.ExpectationSuite(name=f"{data['name']}:{scope}", expectations=chosen, meta=data.get("meta", {}))


def _describe_failure(result) -> str:
    config = result.expectation_config
    kwargs = {
        k: v for k, v in config.kwargs.items() if k in ("column", "column_list", "regex", "min_value", "max_value")
    }
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    res = result.result or {}
    detail = ""
    if "unexpected_count" in res:
        examples = res.get("partial_unexpected_list") or []
        detail = f": {res['unexpected_count']:,} unexpected values, e.g. {examples[:5]}"
    elif "observed_value" in res:
        detail = f": observed {res['observed_value']!r}"
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail += f" (error: {result.exception_info.get('exception_message')})"
    return f"{config.type}({args}){detail}"


def _key(result) -> str:
    config = result.expectation_config
    return config.type + json.dumps(config.kwargs, sort_keys=True, default=str)


def _validate_frame(suite: gx.ExpectationSuite, frame: pd.DataFrame, parameters: dict) -> list:
    batch = _context().get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, expectation_parameters=parameters).results


def validate_relation(
    con: duckdb.DuckDBPyConnection,
    relation_sql: str,
    *,
    suite_name: str,
    table: str,
    period: str,
    parameters: dict,
    summary: dict,
    batch_rows: int = BATCH_ROWS,
    allow_empty: bool = False,
) -> SuiteResult:
    """Validate the rows of `relation_sql` (one month) with the suite, streaming in batches. An empty month
    fails unless `allow_empty` (a source that legitimately released nothing yet)."""
    result = SuiteResult(suite=suite_name, table=table, period=period, rows=int(summary.get("row_count", 0)))
    row_suite = _suite(suite_name, "rows")
    summary_suite = _suite(suite_name, "summary")
    if row_suite is not None:
        failed: dict[str, tuple[object, int, list]] = {}
        batches = 0
        for record_batch in con.cursor().sql(relation_sql).to_arrow_reader(batch_rows):
            if record_batch.num_rows == 0:
                continue
            batches += 1
            for res in _validate_frame(row_suite, record_batch.to_pandas(), parameters):
                if res.success:
                    continue
                key = _key(res)
                first, count, examples = failed.get(key, (res, 0, []))
                outcome = res.result or {}
                failed[key] = (
                    first,
                    count + (outcome.get("unexpected_count") or 0),
                    (examples + (outcome.get("partial_unexpected_list") or []))[:20],
                )
        result.evaluated += len(row_suite.expectations)
        if batches == 0 and not allow_empty:
            result.failures.append(f"{table} has no rows for {period}")
        for first, count, examples in failed.values():
            if "unexpected_count" in (first.result or {}):
                first.result["unexpected_count"] = count
                first.result["partial_unexpected_list"] = examples
            result.failures.append(_describe_failure(first))
    if summary_suite is not None:
        for res in _validate_frame(summary_suite, pd.DataFrame([summary]), parameters):
            result.evaluated += 1
            if not res.success:
                result.failures.append(_describe_failure(res))
    return result
