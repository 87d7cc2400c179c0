"""The GX runner: batches add up, failures name the suite, table, month and expectation."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib import comext, reference
from orchestration.lib.expectations import SuiteResult, load_suite_json, validate_relation
from tests.conftest import SAMPLE_COMEXT

PARAMS = {"period_set": ["202201"], "min_ratio": 0.5, "max_ratio": 2.0, "known_partners": reference.known_codes()}


def month_parquet(tmp_path: Path) -> Path:
    dat = comext.unpack_month(SAMPLE_COMEXT / "full_v2_202201.7z", "202201", tmp_path, 10**9)
    out = tmp_path / "m.parquet"
    comext.to_parquet(
        dat,
        out,
        period="202201",
        lineage={"SOURCE_FILE": "f", "SOURCE_SHA256": "a" * 64, "RETRIEVED_AT": "t"},
    )
    return out


def validate(parquet: Path, select: str, ratio: float, batch_rows: int = 5000) -> SuiteResult:
    return validate_relation(
        duckdb.connect(),
        select.format(parquet=f"read_parquet('{parquet}')"),
        suite_name="raw_comext_monthly",
        table="raw/comext_monthly",
        period="2022-01",
        parameters=PARAMS,
        summary={"row_count": 28268, "row_count_vs_previous": ratio, "reporter_count": 27},
        batch_rows=batch_rows,
    )


def test_failures_in_different_batches_are_counted_together(tmp_path: Path) -> None:
    # Two bad rows, far apart, so they land in different batches of 5,000 rows.
    result = validate(
        month_parquet(tmp_path),
        """SELECT * EXCLUDE (rn) REPLACE (CASE WHEN rn IN (10, 25000) THEN '1234567' ELSE PRODUCT_NC END AS PRODUCT_NC)
           FROM (SELECT *, row_number() OVER () AS rn FROM {parquet})""",
        ratio=1.0,
    )
    assert not result.success
    (failure,) = result.failures
    assert failure.startswith("expect_column_values_to_match_regex(column=PRODUCT_NC")
    assert "2 unexpected values" in failure and "'1234567'" in failure
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
        batch_rows=250_000,
    )
    joined = " | ".join(result.failures)
    assert "row_count_vs_previous" in joined
    assert "expect_column_values_to_be_of_type(column=VALUE_EUR)" in joined
    assert len(result.failures) == 2
