"""Comext archive and file contract, on the real sample and on real-layout files derived from it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.errors import FormatError
from orchestration.lib.sources.comext.facts import V1_COLUMNS, month_url
from orchestration.lib.sources.comext.parse import ParquetStats, archive_to_parquet
from tests.conftest import SAMPLE_COMEXT, read_member, rewrite_sample, write_archive

LINEAGE = {"SOURCE_FILE": "f.7z", "SOURCE_SHA256": "0" * 64, "RETRIEVED_AT": "2026-01-01T00:00:00+00:00"}


def parse(
    archive: Path, period: str, tmp_path: Path, max_bytes: int = 10**9, chunk_bytes: int = 64 * 1024
) -> tuple[Path, ParquetStats]:
    """The pipeline's path: the archive streamed into parquet. Small chunks, so that even the sample's months are
    parsed in many parts while they are decompressed."""
    out = tmp_path / "out.parquet"
    stats = archive_to_parquet(
        archive,
        out,
        period=period,
        lineage=dict(LINEAGE),
        max_unpacked_bytes=max_bytes,
        work_dir=tmp_path,
        chunk_bytes=chunk_bytes,
    )
    return out, stats


def test_real_v2_month_keeps_every_row_codes_as_text_and_values_exact(tmp_path: Path) -> None:
    _, text = read_member(SAMPLE_COMEXT / "full_v2_202201.7z")
    lines = text.splitlines()[1:]
    fields = [line.split(",") for line in lines]
    out, stats = parse(SAMPLE_COMEXT / "full_v2_202201.7z", "202201", tmp_path)

    assert stats.layout == "v2"
    assert stats.rows == len(lines)
    assert stats.periods == ["202201"]
    assert len(stats.reporters) == 27 and "GR" in stats.reporters
    con = duckdb.connect()
    leading_zero, total, sections = con.execute(
        f"""SELECT count(*) FILTER (WHERE PRODUCT_NC LIKE '0%'), sum(VALUE_EUR),
                   count(*) FILTER (WHERE PRODUCT_SECTION LIKE '0%')
            FROM read_parquet('{out}')"""
    ).fetchone()
    assert leading_zero == sum(1 for f in fields if f[3].startswith("0")) > 0
    assert sections == sum(1 for f in fields if f[9].startswith("0")) > 0
    assert total == sum(Decimal(f[14]) for f in fields)
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{out}')").fetchall())
    assert types["PRODUCT_NC"] == "VARCHAR" and types["VALUE_EUR"] == "DECIMAL(18,2)"
    assert list(types)[-3:] == list(LINEAGE)


def test_confidential_codes_are_kept_as_published(tmp_path: Path) -> None:
    confidential = "AT,KZ,E,39XXXXXX,582XX,XXXX,XXXX,700,31XXXX,07,2,1,NO_SU,202201,89,89,0,0"
    archive = rewrite_sample("202201", tmp_path / "src", lambda lines: [*lines, confidential])
    out, _ = parse(archive, "202201", tmp_path)
    row = duckdb.sql(f"SELECT PRODUCT_NC, PRODUCT_SITC, VALUE_EUR FROM '{out}' WHERE PRODUCT_NC LIKE '%X%'").fetchall()
    assert row == [("39XXXXXX", "582XX", Decimal("89.00"))]


def test_v1_header_is_mapped_to_v2_names(tmp_path: Path) -> None:
    v1_header = ",".join(V1_COLUMNS)
    v1_row = "4,AT,72,KZ,E,85423111,77641,261130,261130,261130,322,16,2,1,NO_SU,201912,1234.5,17,0"
    archive = write_archive(tmp_path / "src" / "full_v2_201912.7z", "full201912.dat", f"{v1_header}\n{v1_row}\n")
    out, stats = parse(archive, "201912", tmp_path)
    assert stats.layout == "v1"
    got = duckdb.sql(
        f"""SELECT REPORTER, PARTNER, PRODUCT_NC, PRODUCT_CPA21, STAT_PROCEDURE, PERIOD, VALUE_EUR, QUANTITY_KG,
                   PRODUCT_CPA22, VALUE_NAC FROM '{out}'"""
    ).fetchall()
    assert got == [("AT", "KZ", "85423111", "261130", "1", "201912", Decimal("1234.50"), Decimal("17.000"), None, None)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda h: h.replace(",QUANTITY_SUPPL_UNIT", ""),
            "header has 17 columns, expected the 18-column v2 header",
        ),
        (lambda h: h.replace("VALUE_EUR", "VALUE_EURO"), "missing VALUE_EUR; unexpected VALUE_EURO"),
        (lambda h: h.replace("REPORTER,PARTNER", "PARTNER,REPORTER"), "columns out of order"),
    ],
)
def test_header_that_breaks_the_contract_is_rejected_by_name(tmp_path: Path, edit, message: str) -> None:
    archive = rewrite_sample("202201", tmp_path / "src", lambda lines: [edit(lines[0]), *lines[1:]])
    with pytest.raises(FormatError, match="Comext 2022-01") as err:
        parse(archive, "202201", tmp_path)
    assert message in str(err.value)


def test_annual_file_is_refused(tmp_path: Path) -> None:
    archive = rewrite_sample("202201", tmp_path / "src", lambda lines: lines, member="full_202252.dat")
    with pytest.raises(FormatError, match=r"ANNUAL file 'full_202252.dat'"):
        parse(archive, "202201", tmp_path)


def test_annual_period_inside_a_monthly_file_is_refused(tmp_path: Path) -> None:
    archive = rewrite_sample(
        "202201",
        tmp_path / "src",
        lambda lines: [lines[0]] + [ln.replace(",202201,", ",202252,") for ln in lines[1:]],
    )
    with pytest.raises(FormatError, match="PERIOD 202252 is an ANNUAL total"):
        parse(archive, "202201", tmp_path)
    assert not (tmp_path / "out.parquet").exists()


def test_period_other_than_the_partition_is_refused(tmp_path: Path) -> None:
    archive = rewrite_sample(
        "202201", tmp_path / "src", lambda lines: [*lines[:-1], lines[-1].replace(",202201,", ",202112,")]
    )
    with pytest.raises(FormatError, match="PERIOD values 202112 do not match the partition; expected only 202201"):
        parse(archive, "202201", tmp_path)


def test_member_for_another_month_is_refused(tmp_path: Path) -> None:
    archive = rewrite_sample("202201", tmp_path / "src", lambda lines: lines, member="full_202112.dat")
    with pytest.raises(FormatError, match=r"is for 2021-12, expected full_202201\.dat"):
        parse(archive, "202201", tmp_path)


def test_value_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    archive = rewrite_sample(
        "202201",
        tmp_path / "src",
        lambda lines: [*lines[:-1], ",".join([*lines[-1].split(",")[:14], "n/a", "1,0,0"])],
    )
    with pytest.raises(FormatError, match="does not parse as the v2 layout"):
        parse(archive, "202201", tmp_path)


def test_truncated_archive_is_refused(tmp_path: Path) -> None:
    data = (SAMPLE_COMEXT / "full_v2_202201.7z").read_bytes()
    archive = tmp_path / "full_v2_202201.7z"
    archive.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(FormatError, match="truncated or corrupt"):
        parse(archive, "202201", tmp_path)


def test_corrupt_archive_is_refused(tmp_path: Path) -> None:
    data = bytearray((SAMPLE_COMEXT / "full_v2_202201.7z").read_bytes())
    for i in range(5000, 5400):
        data[i] ^= 0xFF
    archive = tmp_path / "full_v2_202201.7z"
    archive.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="truncated or corrupt"):
        parse(archive, "202201", tmp_path)


def test_unpack_size_guard(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="over the 1,000-byte guard"):
        parse(SAMPLE_COMEXT / "full_v2_202201.7z", "202201", tmp_path, max_bytes=1000)
    assert not (tmp_path / "unpacked").exists(), "nothing may be extracted past the guard"


def test_url_is_exactly_as_eurostat_serves_it() -> None:
    assert month_url("https://ec.europa.eu/eurostat/api/dissemination/files", "202403") == (
        "https://ec.europa.eu/eurostat/api/dissemination/files?file=comext%2FCOMEXT_DATA%2FPRODUCTS%2Ffull_v2_202403.7z"
    )
