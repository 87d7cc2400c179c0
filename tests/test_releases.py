"""Release detection: what is new or revised is found from listings and getDa, without downloading data."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.demo.comtrade import ComtradeServer
from orchestration.demo.ecb import EcbServer
from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib.config import Settings
from orchestration.lib.http import new_session
from orchestration.lib.releases import ReleasePlan, plan_releases
from orchestration.lib.sources.comext.client import comext_listing
from orchestration.lib.sources.comext.ingest import ingest_month
from orchestration.lib.sources.comtrade import ingest as comtrade_ingest
from orchestration.lib.sources.comtrade.client import ComtradeApi, Throttle
from tests import partner_data
from tests.conftest import FAST_HTTP, copy_sample, rewrite_sample


@pytest.fixture
def world(settings: Settings, served_dir: Path, eurostat: EurostatFileServer, monkeypatch) -> Iterator[dict]:
    copy_sample(served_dir, "202201", "202202")
    records, availability = partner_data.world({"202201": 1, "202202": 2})
    with ComtradeServer(records, availability) as comtrade, EcbServer(partner_data.RATES) as ecb:
        monkeypatch.setenv("MIRROR_TRADE_COMTRADE_URL", comtrade.base_url)
        monkeypatch.setenv("MIRROR_TRADE_ECB_URL", ecb.base_url)
        monkeypatch.setenv("MIRROR_TRADE_COMTRADE_REPORTERS", "KZ,AM,GE")
        monkeypatch.setenv("MIRROR_TRADE_COMTRADE_MIN_INTERVAL", "0")
        settings = dataclasses.replace(
            settings, comtrade_url=comtrade.base_url, ecb_url=ecb.base_url, comtrade_reporters=("KZ", "AM", "GE")
        )
        api = ComtradeApi(
            new_session(FAST_HTTP), comtrade.base_url, None, FAST_HTTP, Throttle(0), 100_000, log=lambda _: None
        )
        yield {"settings": settings, "api": api, "served": served_dir, "eurostat": eurostat, "comtrade": comtrade}


def plan(world: dict):
    return plan_releases(world["settings"], new_session(FAST_HTTP), world["api"], 24)


def ingest_all(world: dict, *periods: str) -> None:
    listing = comext_listing(world["settings"], new_session(FAST_HTTP))
    for period in periods:
        ingest_month(world["settings"], new_session(FAST_HTTP), period, log=lambda _: None, remote=listing[period])
        comtrade_ingest.ingest_month(world["settings"], world["api"], period, log=lambda _: None)


def test_an_empty_warehouse_needs_every_listed_month(world: dict) -> None:
    first = plan(world)
    assert first.comext == ["202201", "202202"]
    assert first.comtrade == ["202201", "202202"]
    assert first.ecb_newest == "202203"


def test_nothing_new_means_nothing_to_run_and_no_data_downloaded(world: dict) -> None:
    ingest_all(world, "202201", "202202")
    before = len(world["eurostat"].requests)

    again = plan(world)

    assert again.months == []
    assert again.summary().startswith("nothing new: Comext listing: 2 of 2 months unchanged")
    asked = world["eurostat"].requests[before:]
    assert len(asked) == 1 and "format=csv" in asked[0], "one listing call, no file"


def test_unchanged_month_is_not_downloaded_again(world: dict) -> None:
    ingest_all(world, "202201")
    before = len(world["eurostat"].requests)
    listing = comext_listing(world["settings"], new_session(FAST_HTTP))
    outcome = ingest_month(
        world["settings"], new_session(FAST_HTTP), "202201", log=lambda _: None, remote=listing["202201"]
    )
    assert outcome.status == "unchanged"
    assert not any("full_v2_202201" in r for r in world["eurostat"].requests[before:])


def test_a_new_month_in_the_listing_triggers_exactly_that_month(world: dict) -> None:
    ingest_all(world, "202201", "202202")
    copy_sample(world["served"], "202203")
    assert plan(world).comext == ["202203"]


def test_a_revised_file_triggers_its_month_and_a_new_vintage(world: dict) -> None:
    ingest_all(world, "202201", "202202")
    revised = rewrite_sample("202201", world["served"], lambda lines: lines[:-3])
    stamp = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    os.utime(revised, (stamp, stamp))

    assert plan(world).comext == ["202201"]
    listing = comext_listing(world["settings"], new_session(FAST_HTTP))
    outcome = ingest_month(
        world["settings"], new_session(FAST_HTTP), "202201", log=lambda _: None, remote=listing["202201"]
    )
    assert outcome.status == "loaded" and outcome.new_vintage
    assert plan(world).months == []


def test_a_new_comtrade_release_triggers_its_month(world: dict) -> None:
    ingest_all(world, "202201", "202202")
    world["comtrade"].availability[0]["datasetChecksum"] = "revised-checksum"
    assert plan(world).comtrade == [world["comtrade"].availability[0]["period"]]


def test_the_nightly_schedule_skips_with_one_line_or_requests_the_changed_months(world: dict) -> None:
    from orchestration.lib.dbt_manifest import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("nightly")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 28, 2, tzinfo=UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2022-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2022-02-01"

    # A month revised a year before the new one: two runs, not the months between.
    plan = ReleasePlan(comext=["202101", "202201", "202202"], comtrade=["202202", "202112"])
    assert plan.ranges() == [("202101", "202101"), ("202112", "202202")]
    assert ReleasePlan(comext=["202012", "202101"]).ranges() == [("202012", "202101")]

    ingest_all(world, "202201", "202202")
    result = schedule.evaluate_tick(context)
    assert result.run_requests == []
    assert result.skip_message.startswith("nothing new:") and "\n" not in result.skip_message
