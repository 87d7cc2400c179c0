"""ECB monthly USD/EUR rates against a local server answering like the ECB Data API."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.ecb import EcbServer
from orchestration.lib import rawstore
from orchestration.lib.config import Settings
from orchestration.lib.errors import FormatError, SourceError
from orchestration.lib.http import new_session
from orchestration.lib.sources.ecb.ingest import ingest_rates, lake_path, missing_message
from orchestration.lib.sources.ecb.parse import read_rates
from tests.conftest import FAST_HTTP

RATES = {"2022-01": 1.1314, "2022-02": 1.1342, "2022-03": 1.1019}


def ingest(settings: Settings, server: EcbServer, periods: list[str]):
    return ingest_rates(
        dataclasses.replace(settings, ecb_url=server.base_url), new_session(FAST_HTTP), periods, log=lambda _: None
    )


def test_rates_are_exact_decimals_kept_with_their_raw_response(settings: Settings) -> None:
    with EcbServer(RATES) as server:
        rates, vintage, missing = ingest(settings, server, ["202201", "202202"])
    assert missing == []
    assert server.requests == [
        "/service/data/EXR/M.USD.EUR.SP00.A?format=csvdata&startPeriod=2022-01&endPeriod=2022-02"
    ]
    assert [(r.period, r.usd_per_eur) for r in rates] == [("202201", Decimal("1.1314")), ("202202", Decimal("1.1342"))]
    assert vintage.sha256 == rawstore.sha256_of(vintage.path)
    stored = duckdb.execute(f"SELECT usd_per_eur, source_sha256 FROM '{lake_path(settings, '202202')}'").fetchall()
    assert stored == [(Decimal("1.134200"), vintage.sha256)]


def test_a_month_without_a_rate_is_reported_and_the_others_loaded(settings: Settings) -> None:
    with EcbServer(RATES) as server:
        rates, _, missing = ingest(settings, server, ["202203", "202204"])
    assert [r.period for r in rates] == ["202203"] and missing == ["202204"]
    assert lake_path(settings, "202203").exists()
    assert not lake_path(settings, "202204").exists()
    assert missing_message(missing).startswith("ECB EXR/M.USD.EUR.SP00.A: no USD/EUR monthly rate for 2022-04")


def test_no_data_at_all_is_a_404_error(settings: Settings) -> None:
    with EcbServer(RATES) as server, pytest.raises(SourceError, match="HTTP 404"):
        ingest(settings, server, ["203001"])


def test_503_is_retried(settings: Settings) -> None:
    with EcbServer(RATES) as server:
        server.inject("EXR", "503")
        rates, _, _ = ingest(settings, server, ["202201"])
    assert len(server.requests) == 2 and rates[0].usd_per_eur == Decimal("1.1314")


def test_other_series_or_layout_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text(
        "KEY,FREQ,CURRENCY,CURRENCY_DENOM,TIME_PERIOD,OBS_VALUE\nEXR.M.GBP.EUR.SP00.A,M,GBP,EUR,2022-01,0.83\n"
    )
    with pytest.raises(FormatError, match="rows of another series"):
        read_rates(other, ["202201"])
    layout = tmp_path / "layout.csv"
    layout.write_text("KEY,TIME_PERIOD,VALUE\nEXR.M.USD.EUR.SP00.A,2022-01,1.13\n")
    with pytest.raises(FormatError, match="lacks columns FREQ, CURRENCY, CURRENCY_DENOM, OBS_VALUE"):
        read_rates(layout, ["202201"])
