"""The GX runner: DuckDB reduces the month, GX judges the reduction, failing rows are counted exactly; failures
name the suite, table, month and expectation."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import reference
from orchestration.lib.quality import expectations
from orchestration.lib.quality.expectations import SuiteResult, load_suite_json, validate_relation
from orchestration.lib.sources.comext.parse import archive_to_parquet
from tests.conftest import SAMPLE_COMEXT

PARAMS = {"period_set": ["202201"], "min_ratio": 0.5, "max_ratio": 2.0, "known_partners": reference.known_codes()}


def month_parquet(tmp_path: Path) -> Path:
    out = tmp_path / "m.parquet"
    archive_to_parquet(
        SAMPLE_COMEXT / "full_v2_202201.7z",
        out,
        period="202201",
        lineage={"SOURCE_FILE": "f", "SOURCE_SHA256": "a" * 64, "RETRIEVED_AT": "t"},
        max_unpacked_bytes=10**9,
        work_dir=tmp_path,
    )
    return out


def validate(parquet: Path, select: str, ratio: float) -> SuiteResult:
    return validate_relation(
        duckdb.connect(),
        select.format(parquet=f"read_parquet('{parquet}')"),
        suite_name="raw_comext_monthly",
        table="raw/comext_monthly",
        period="2022-01",
        parameters=PARAMS,
        summary={"row_count": 28268, "row_count_vs_previous": ratio, "reporter_count": 27},
    )


def test_failing_rows_far_apart_are_counted_together(tmp_path: Path) -> None:
    result = validate(
        month_parquet(tmp_path),
        """SELECT * EXCLUDE (rn) REPLACE (CASE WHEN rn IN (10, 25000) THEN '1234567' ELSE PRODUCT_NC END AS PRODUCT_NC)
           FROM (SELECT *, row_number() OVER () AS rn FROM {parquet})""",
        ratio=1.0,
    )
    assert not result.success
    (failure,) = result.failures
    assert failure.startswith("expect_column_values_to_match_regex(column=PRODUCT_NC")
    assert "2 unexpected rows" in failure and "'1234567'" in failure
    assert result.describe().startswith("GX suite raw_comext_monthly on raw/comext_monthly for 2022-01: 1 of")


def test_clean_month_passes_every_expectation(tmp_path: Path) -> None:
    result = validate(month_parquet(tmp_path), "SELECT * FROM {parquet}", ratio=1.1)
    assert result.success, result.failures
    assert result.evaluated == len(load_suite_json("raw_comext_monthly")["expectations"])


def test_summary_band_and_types_are_enforced(tmp_path: Path) -> None:
    result = validate(
        month_parquet(tmp_path),
        "SELECT * REPLACE (CAST(VALUE_EUR AS DOUBLE) AS VALUE_EUR) FROM {parquet}",
        ratio=3.5,
    )
    joined = " | ".join(result.failures)
    assert "row_count_vs_previous" in joined
    assert "expect_column_values_to_be_of_type(column=VALUE_EUR)" in joined
    assert len(result.failures) == 2


def custom_suite(monkeypatch, tmp_path: Path, *expectation_list: dict) -> str:
    (tmp_path / "t.json").write_text(json.dumps({"name": "t", "expectations": list(expectation_list)}))
    monkeypatch.setattr(expectations, "EXPECTATIONS_DIR", tmp_path)
    return "t"


ROWS = """SELECT * FROM (VALUES ('a', 1, 10.5), ('a', 2, -1.0), ('b', NULL, -2.0), ('b', 2, 3.0), ('c', 3, 7.0))
          AS t(k, n, v)"""


def run(name: str, relation: str = ROWS, **kw) -> SuiteResult:
    return validate_relation(
        duckdb.connect(),
        relation,
        suite_name=name,
        table="t",
        period="2024-01",
        parameters={"low": 0},
        summary={"row_count": 5},
        **kw,
    )


def test_reduced_checks_count_the_rows_that_fail(monkeypatch, tmp_path: Path) -> None:
    name = custom_suite(
        monkeypatch,
        tmp_path,
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "v", "min_value": {"$PARAMETER": "low"}}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "k", "value_set": ["a", "c"]}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["k", "n"]}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "k", "type_": "str"}},
    )
    failures = sorted(run(name).failures)
    assert failures == sorted(
        [
            "expect_column_values_to_be_between(column=v, min_value=0.0): 2 unexpected rows, e.g. [Decimal('-2.0')]",
            "expect_column_values_to_not_be_null(column=n): 1 unexpected rows, e.g. [nan]",
            "expect_column_values_to_be_in_set(column=k): 2 unexpected rows, e.g. ['b']",
        ]
    ), failures
    clean = "SELECT * FROM (VALUES ('a', 1, 1.0), ('a', 1, 2.0), ('c', 3, 3.0)) AS t(k, n, v)"
    (dup,) = run(name, clean).failures
    assert dup.startswith("expect_compound_columns_to_be_unique(column_list=['k', 'n']): 2 unexpected rows")


def test_an_expectation_the_reducer_cannot_reduce_is_refused(monkeypatch, tmp_path: Path) -> None:
    name = custom_suite(
        monkeypatch, tmp_path, {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "v", "min_value": 0}}
    )
    with pytest.raises(ValueError, match="expect_column_mean_to_be_between cannot be reduced"):
        run(name)
    name = custom_suite(
        monkeypatch,
        tmp_path,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n", "mostly": 0.5}},
    )
    with pytest.raises(ValueError, match="mostly"):
        run(name)


def test_an_empty_month_fails_unless_allowed(monkeypatch, tmp_path: Path) -> None:
    name = custom_suite(
        monkeypatch,
        tmp_path,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "k", "value_set": ["a"]}},
    )
    empty = f"SELECT * FROM ({ROWS}) WHERE false"
    assert run(name, empty).failures == ["t has no rows for 2024-01"]
    assert run(name, empty, allow_empty=True).success
