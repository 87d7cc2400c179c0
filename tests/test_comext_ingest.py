"""One month from the local server into the raw store and the parquet lake."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib import rawstore
from orchestration.lib.config import Settings
from orchestration.lib.errors import SourceError
from orchestration.lib.http import new_session
from orchestration.lib.sources.comext.ingest import ingest_month, lake_path, revisions_path
from tests.conftest import SAMPLE_COMEXT, copy_sample, rewrite_sample


def quiet(_: str) -> None:
    pass


def test_month_is_kept_immutable_with_its_checksum_and_loaded(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202201")
    outcome = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    assert outcome.status == "loaded" and outcome.new_vintage
    assert outcome.check is not None and outcome.check.success
    (vintage,) = rawstore.list_vintages(settings.raw_dir, "comext", "202201")
    served_bytes = (SAMPLE_COMEXT / "full_v2_202201.7z").read_bytes()
    assert vintage.sha256 == hashlib.sha256(served_bytes).hexdigest()
    assert vintage.path.read_bytes() == served_bytes
    assert not os.access(vintage.path, os.W_OK) or os.geteuid() == 0
    assert vintage.path.stat().st_mode & 0o222 == 0, "raw files are read-only"
    manifest = json.loads((vintage.path.parent / "manifest.json").read_text())
    assert manifest["url"].endswith("file=comext%2FCOMEXT_DATA%2FPRODUCTS%2Ffull_v2_202201.7z")
    assert manifest["size_bytes"] == len(served_bytes) and manifest["retrieved_at"]
    rows, shas = duckdb.sql(
        f"SELECT count(*), list(DISTINCT SOURCE_SHA256) FROM read_parquet('{lake_path(settings, '202201')}')"
    ).fetchall()[0]
    assert rows == outcome.rows == 28268
    assert shas == [vintage.sha256]
    assert list(settings.tmp_dir.iterdir()) == [], "working files are cleaned up"


def test_same_release_again_adds_no_vintage_and_rewrites_nothing(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202201")
    ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    parquet = lake_path(settings, "202201")
    before = parquet.stat().st_mtime_ns

    again = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    assert again.status == "unchanged" and not again.new_vintage
    assert len(rawstore.list_vintages(settings.raw_dir, "comext", "202201")) == 1
    assert parquet.stat().st_mtime_ns == before


def test_revised_release_is_a_new_vintage_and_the_old_one_stays(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202201")
    first = ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    rewrite_sample("202201", served_dir, lambda lines: lines[:-1])  # a revision drops one row

    revised = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    vintages = rawstore.list_vintages(settings.raw_dir, "comext", "202201")
    assert [v.sha256 for v in vintages] == [first.vintage.sha256, revised.vintage.sha256]
    assert vintages[0].path.exists()
    assert revised.status == "loaded" and revised.rows == first.rows - 1
    lake_sha = duckdb.sql(f"SELECT any_value(SOURCE_SHA256) FROM '{lake_path(settings, '202201')}'").fetchall()[0][0]
    assert lake_sha == revised.vintage.sha256


def test_month_failing_its_checks_is_quarantined_not_loaded(settings: Settings, served_dir: Path) -> None:
    def negative_value(lines: list[str]) -> list[str]:
        fields = lines[5].split(",")
        fields[14] = "-" + fields[14]
        return [*lines[:5], ",".join(fields), *lines[6:]]

    rewrite_sample("202201", served_dir, negative_value)
    outcome = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    assert outcome.status == "rejected"
    assert not lake_path(settings, "202201").exists()
    assert outcome.parquet_path is not None and outcome.parquet_path.is_relative_to(settings.quarantine_dir)
    failure = " ".join(outcome.check.failures)
    assert "expect_column_values_to_be_between(column=VALUE_EUR, min_value=0.0): 1 unexpected rows" in failure
    assert "raw/comext_monthly for 2022-01" in outcome.check.describe()


def test_row_count_far_outside_the_previous_months_band_fails(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202112")
    ingest_month(settings, new_session(settings.http), "202112", log=quiet)
    rewrite_sample("202201", served_dir, lambda lines: lines[:2000])  # ~7% of a normal month

    outcome = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    assert outcome.status == "rejected"
    assert any("row_count_vs_previous" in f for f in outcome.check.failures)


def test_error_page_names_source_period_and_file(
    settings: Settings, served_dir: Path, eurostat: EurostatFileServer
) -> None:
    copy_sample(served_dir, "202201")
    eurostat.inject("full_v2_202201.7z", "html200")
    with pytest.raises(SourceError, match=r"^Comext 2022-01 full_v2_202201.7z: the server answered 200 with an HTML"):
        ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    assert rawstore.list_vintages(settings.raw_dir, "comext", "202201") == []
    assert not lake_path(settings, "202201").exists()


def test_tampered_raw_file_is_detected(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202201")
    outcome = ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    path = outcome.vintage.path
    path.chmod(0o644)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(SourceError, match="the raw store was altered"):
        rawstore.verify(outcome.vintage)


def test_unknown_partner_code_is_named_by_the_check(settings: Settings, served_dir: Path) -> None:
    rewrite_sample("202201", served_dir, lambda lines: [lines[0], lines[1].replace(",AM,", ",ZZ,", 1), *lines[2:]])
    outcome = ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    assert outcome.status == "rejected"
    (failure,) = [f for f in outcome.check.failures if "PARTNER" in f]
    assert "expect_column_values_to_be_in_set(column=PARTNER)" in failure and "['ZZ']" in failure


def test_revisions_of_watched_codes_are_recorded_between_vintages(settings: Settings, served_dir: Path) -> None:
    copy_sample(served_dir, "202201")
    first = ingest_month(settings, new_session(settings.http), "202201", log=quiet)
    first_revisions = revisions_path(settings, "202201", first.vintage.sha256)
    assert duckdb.execute(f"SELECT count(*) FROM '{first_revisions}'").fetchall() == [(0,)], "nothing to compare"

    def revise(lines: list[str]) -> list[str]:
        out, chips, other = [lines[0]], [], None
        for line in lines[1:]:
            f = line.split(",")
            if f[3].startswith("854231") and len(chips) < 2:
                chips.append(f)
                if len(chips) == 1:
                    f[14] = str(int(f[14]) + 1000)  # revised up
                    out.append(",".join(f))
                continue  # the second chip row is withdrawn
            if other is None and f[3].startswith("6403"):
                other = f
                f[14] = str(int(f[14]) + 5)  # footwear: not watched
                out.append(",".join(f))
                continue
            out.append(line)
        return out

    rewrite_sample("202201", served_dir, revise)
    second = ingest_month(settings, new_session(settings.http), "202201", log=quiet)

    rows = duckdb.execute(
        f"""SELECT cn8, previous_value_eur, current_value_eur, previous_sha256, current_sha256
            FROM '{revisions_path(settings, "202201", second.vintage.sha256)}' ORDER BY current_value_eur NULLS LAST"""
    ).fetchall()
    assert len(rows) == 2 and all(r[0].startswith("854231") for r in rows)
    raised, withdrawn = rows
    assert raised[2] - raised[1] == 1000
    assert withdrawn[2] is None and withdrawn[1] > 0
    assert {r[3] for r in rows} == {first.vintage.sha256} and {r[4] for r in rows} == {second.vintage.sha256}
