"""The benchmark's month generator: the exact v2 layout, the real file's variety, the same bytes from the same seed,
and a month the pipeline takes like a real one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from benchmarks import generate
from orchestration.lib import reference
from orchestration.lib.quality.expectations import validate_relation
from orchestration.lib.sources.comext.facts import V2_COLUMNS
from orchestration.lib.sources.comext.parse import archive_to_parquet, unpack_month

ROWS = 30_000


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_month_other_rows(tmp_path: Path) -> None:
    first = generate.write_month("202409", ROWS, tmp_path / "a")
    again = generate.write_month("202409", ROWS, tmp_path / "b")
    other = generate.write_month("202410", ROWS, tmp_path / "c")
    assert first.name == "full_v2_202409.7z"
    assert digest(first) == digest(again)
    assert digest(first) != digest(other)


def test_a_generated_month_is_a_valid_v2_month_with_the_real_files_variety(tmp_path: Path) -> None:
    archive = generate.write_month("202409", ROWS, tmp_path)
    dat = unpack_month(archive, "202409", tmp_path / "x", 10**9)
    assert dat.read_text().split("\n", 1)[0] == ",".join(V2_COLUMNS)
    parquet = tmp_path / "m.parquet"
    stats = archive_to_parquet(
        archive,
        parquet,
        period="202409",
        lineage={"SOURCE_FILE": archive.name, "SOURCE_SHA256": "a" * 64, "RETRIEVED_AT": "t"},
        max_unpacked_bytes=10**9,
        work_dir=tmp_path,
    )
    assert stats.layout == "v2" and stats.rows == ROWS and stats.periods == ["202409"]
    assert len(stats.reporters) == 27 and "GR" in stats.reporters

    rel = f"read_parquet('{parquet}')"
    facts = duckdb.sql(
        f"""SELECT count(DISTINCT PARTNER), count(DISTINCT PARTNER) FILTER (WHERE PARTNER LIKE 'Q%'),
                   count(DISTINCT PRODUCT_NC), count(*) FILTER (WHERE contains(PRODUCT_NC, 'X')),
                   list(DISTINCT FLOW ORDER BY FLOW), list(DISTINCT TRADE_TYPE ORDER BY TRADE_TYPE),
                   list(DISTINCT STAT_PROCEDURE ORDER BY STAT_PROCEDURE),
                   count(*) - count(DISTINCT (REPORTER, PARTNER, PRODUCT_NC, FLOW, STAT_PROCEDURE))
            FROM {rel}"""
    ).fetchall()[0]
    partners, special, products, confidential, flows, trade_types, procedures, duplicates = facts
    assert partners > 150 and special >= 5
    assert products > 3_000 and confidential > 0
    assert flows == ["1", "2"] and trade_types == ["E", "I", "L", "M"] and procedures == ["1", "2", "3", "9"]
    assert duplicates == 0
    # Skew: the ten busiest partners carry far more than their share (10 of ~250) of the rows.
    top10 = duckdb.sql(
        f"SELECT sum(n) / (SELECT count(*) FROM {rel}) FROM "
        f"(SELECT count(*) AS n FROM {rel} GROUP BY PARTNER ORDER BY n DESC LIMIT 10)"
    ).fetchall()[0][0]
    assert top10 > 0.3

    check = validate_relation(
        duckdb.connect(),
        f"SELECT * FROM {rel}",
        suite_name="raw_comext_monthly",
        table="raw/comext_monthly",
        period="2024-09",
        parameters={
            "period_set": ["202409"],
            "min_ratio": 0.5,
            "max_ratio": 2,
            "known_partners": reference.known_codes(),
        },
        summary={"row_count": ROWS, "row_count_vs_previous": None, "reporter_count": 27},
    )
    assert check.success, check.failures
