"""Comtrade client and ingest against a local server answering like the real API."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.comtrade import ComtradeServer, availability, record
from orchestration.lib.config import Settings
from orchestration.lib.errors import FormatError, SourceError
from orchestration.lib.http import new_session
from orchestration.lib.sources.comtrade.client import ComtradeApi, Query, Throttle
from orchestration.lib.sources.comtrade.facts import FLOWS, PREVIEW_CAP
from orchestration.lib.sources.comtrade.ingest import (
    call_plan,
    ingest_month,
    lake_path,
    partners,
    products,
    revisions_path,
)
from tests import partner_data
from tests.conftest import FAST_HTTP

PERIOD = "202201"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def api_for(server: ComtradeServer, key: str | None = None, sleeps: Sleeps | None = None) -> ComtradeApi:
    sleeps = sleeps if sleeps is not None else Sleeps()
    return ComtradeApi(
        new_session(FAST_HTTP, sleep=sleeps),
        server.base_url,
        key,
        FAST_HTTP,
        Throttle(0),
        100_000,
        log=lambda _: None,
        sleep=sleeps,
    )


def big_month(n: int) -> list[dict]:
    """n distinct records for Kazakhstan in one month (more than one preview call can hold)."""
    codes = [f"85{i:04d}" for i in range(n // 4 + 1)]
    rows = []
    for i in range(n):
        rows.append(
            record(
                period=PERIOD,
                reporterCode=398,
                flowCode=("M", "X")[i % 2],
                partnerCode=(276, 643)[i % 2],
                cmdCode=codes[i // 4],
                motCode=(0, 2100)[(i // 2) % 2],
                primaryValue=float(i + 1),
            )
        )
    return rows


def sum_values(files: list[Path]) -> tuple[int, Decimal]:
    paths = ", ".join(f"'{f}'" for f in files)
    count, total = duckdb.execute(
        f"""SELECT count(*), sum(CAST(d->>'primaryValue' AS DECIMAL(24, 4)))
            FROM (SELECT unnest(data) AS d FROM read_json([{paths}], columns = {{'data': 'JSON[]'}}))"""
    ).fetchall()[0]
    return count, total


def test_preview_cap_is_respected_by_splitting_until_every_call_is_under_it(tmp_path: Path) -> None:
    rows = big_month(1300)
    with ComtradeServer(rows, []) as server:
        api = api_for(server)
        query = Query(398, PERIOD, ("M", "X"), (276, 643), tuple(sorted({r["cmdCode"] for r in rows})))
        leaves = api.fetch(query, tmp_path)

    assert all(sum_values([leaf])[0] < PREVIEW_CAP for leaf in leaves)
    assert sum_values(leaves) == (1300, Decimal(sum(range(1, 1301))))
    data_calls = [r for r in server.requests if "/preview/" in r]
    assert len(data_calls) > len(leaves) > 2, "capped calls were split, not trusted"
    assert all("maxRecords=500" in r for r in data_calls)
    assert not any("/data/v1/" in r for r in server.requests), "no key: only the public preview"


def test_with_a_key_the_final_endpoint_and_header_are_used(tmp_path: Path) -> None:
    with ComtradeServer(big_month(40), [], api_key="secret") as server:
        leaves = api_for(server, key="secret").fetch(
            Query(398, PERIOD, ("M", "X"), (276, 643), ("85", "8500")), tmp_path
        )
        assert server.requests[0].startswith("/data/v1/get/C/M/HS?")
        assert server.request_headers[0]["Ocp-Apim-Subscription-Key"] == "secret"
        assert len(leaves) == 1
        with pytest.raises(SourceError, match="unexpected HTTP 401"):
            api_for(server, key="wrong").fetch(Query(398, PERIOD, ("M",), (276,), ("8501",)), tmp_path / "other")


def test_429_is_retried_after_the_time_the_server_asks(tmp_path: Path) -> None:
    sleeps = Sleeps()
    with ComtradeServer(big_month(10), []) as server:
        server.inject("preview", "429:4")
        leaves = api_for(server, sleeps=sleeps).fetch(Query(398, PERIOD, ("M", "X"), (276, 643), ("850000",)), tmp_path)
    assert sleeps == [4.0]
    assert sum_values(leaves)[0] == 4


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("mismatch", FormatError, r"envelope says count=\d+ but holds \d+ records"),
        ("error", SourceError, "Comtrade answered with error 'Request could not be processed"),
        ("html200", SourceError, "answered 200 with an HTML page"),
    ],
)
def test_bad_answers_are_failures_not_empty_data(tmp_path: Path, fault: str, error: type, message: str) -> None:
    with ComtradeServer(big_month(10), []) as server:
        server.inject("preview", fault)
        with pytest.raises(error, match=message):
            api_for(server).fetch(Query(398, PERIOD, ("M",), (276,), ("850000",)), tmp_path)
    assert list(tmp_path.glob("q-*.json")) == [], "a bad answer is never kept as a response"


def test_records_without_the_47_fields_are_refused(settings: Settings) -> None:
    rows = partner_data.month(PERIOD, 1)
    for row in rows:
        row["primaryValueUSD"] = row.pop("primaryValue")
    with (
        ComtradeServer(rows, [availability(398, PERIOD, 8, "c1", "2022-03-15T00:00:00")]) as server,
        pytest.raises(FormatError, match=r"missing primaryValue; unexpected primaryValueUSD"),
    ):
        ingest_month(with_reporters(settings, "KZ"), api_for(server), PERIOD, log=lambda _: None)


def with_reporters(settings: Settings, *iso2: str) -> Settings:
    return dataclasses.replace(settings, comtrade_reporters=iso2)


def test_only_released_reporters_are_fetched_and_coverage_says_so(settings: Settings) -> None:
    records, avail = partner_data.world({PERIOD: 1})
    with ComtradeServer(records, avail) as server:
        month = ingest_month(with_reporters(settings, "KZ", "AM", "GE"), api_for(server), PERIOD, log=lambda _: None)
        data_calls = [r for r in server.requests if "/preview/" in r]

    assert month.status == "loaded" and month.check.success, month.check.failures
    assert not any("reporterCode=268" in r for r in data_calls), "Georgia released nothing: not asked"
    table = lake_path(settings, PERIOD, "comtrade_availability")
    availability_rows = duckdb.execute(
        f"SELECT reporter, released, status, records_fetched FROM '{table}' ORDER BY reporter"
    ).fetchall()
    assert availability_rows == [
        ("AM", True, "fetched", 5),
        ("GE", False, "not released", 0),
        ("KZ", True, "fetched", 8),
    ]
    assert duckdb.execute(f"SELECT count(*) FROM '{lake_path(settings, PERIOD)}'").fetchall() == [(13,)]


def test_a_crash_mid_vintage_resumes_without_downloading_again(settings: Settings) -> None:
    records, avail = partner_data.world({PERIOD: 1})
    records += big_month(1200)  # Kazakhstan now needs several calls
    avail[0]["totalRecords"] += 1200
    codes = tuple(sorted({r["cmdCode"] for r in records}))
    settings = dataclasses.replace(with_reporters(settings, "KZ"), comtrade_products=codes)
    with ComtradeServer(records, avail) as server:
        server.inject("preview", "html200")  # the first data call goes through, the second fails
        server.faults["preview"].appendleft(None)
        with pytest.raises(SourceError):
            ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
        (vintage,) = (settings.raw_dir / "comtrade" / PERIOD / "398").iterdir()
        kept = sorted(p.name for p in vintage.glob("q-*.json"))
        assert kept and not (vintage / "manifest.json").exists()
        first_calls = len([r for r in server.requests if "/preview/" in r])

        month = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
        second_calls = len([r for r in server.requests if "/preview/" in r]) - first_calls

    assert month.status == "loaded"
    manifest = json.loads((vintage / "manifest.json").read_text())
    assert manifest["records"] == 1208
    total_calls = len(list(vintage.glob("q-*.json")))
    assert second_calls == total_calls - len(kept), "responses already held are not asked for again"


def test_same_release_is_not_downloaded_twice(settings: Settings) -> None:
    records, avail = partner_data.world({PERIOD: 1})
    with ComtradeServer(records, avail) as server:
        ingest_month(with_reporters(settings, "KZ", "AM"), api_for(server), PERIOD, log=lambda _: None)
        before = len(server.requests)
        again = ingest_month(with_reporters(settings, "KZ", "AM"), api_for(server), PERIOD, log=lambda _: None)
        assert server.requests[before:] == [r for r in server.requests[before:] if "/getDa/" in r]
    assert {r.status for r in again.reporters} == {"unchanged"}


def test_a_revision_that_silently_shrinks_coverage_fails_its_check(settings: Settings) -> None:
    settings = with_reporters(settings, "KZ")
    records, avail = partner_data.world({PERIOD: 1})
    with ComtradeServer(records, avail) as server:
        ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
    revised = [r for r in records if r["reporterCode"] == 398][:2]
    with ComtradeServer(revised, [availability(398, PERIOD, 2, "revised", "2022-05-01T00:00:00")]) as server:
        month = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)

    assert month.status == "rejected"
    assert any("records_vs_previous_vintage" in f for f in month.check.failures)
    assert len(list((settings.raw_dir / "comtrade" / PERIOD / "398").glob("*/manifest.json"))) == 2, (
        "both vintages kept"
    )


def test_a_reporter_withdrawn_from_getda_fails_its_check(settings: Settings) -> None:
    settings = with_reporters(settings, "KZ")
    records, avail = partner_data.world({PERIOD: 1})
    with ComtradeServer(records, avail) as server:
        ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
    with ComtradeServer(records, []) as server:
        month = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
    assert month.status == "rejected"
    assert any("reporters_withdrawn" in f for f in month.check.failures)


def test_partners_are_the_eu_members_of_the_month_plus_russia_and_belarus() -> None:
    codes = partners("202201")
    assert len(codes) == 29
    assert {251, 380, 643, 112} <= set(codes), "Comtrade's own codes for France and Italy"
    assert 826 not in codes and 826 in partners("201912"), "the UK was a member until 2020-01-31"


def test_throttle_spaces_calls() -> None:
    now = [0.0]
    sleeps = Sleeps()
    throttle = Throttle(2.0, sleep=lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s)), clock=lambda: now[0])
    throttle.wait()
    now[0] += 0.5
    throttle.wait()
    throttle.wait()
    assert sleeps == [1.5, 2.0]


def test_a_revised_release_records_what_changed_for_the_watched_codes(settings: Settings) -> None:
    settings = with_reporters(settings, "KZ")
    records, avail = partner_data.world({PERIOD: 1})
    with ComtradeServer(records, avail) as server:
        first = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
    (kz,) = first.reporters
    assert duckdb.execute(f"SELECT count(*) FROM '{revisions_path(settings, PERIOD, 398, kz.vintage)}'").fetchall() == [
        (0,)
    ], "a first release has nothing to compare with"

    revised = [dict(r) for r in records if r["reporterCode"] == 398]
    revised[0]["primaryValue"] = 1200.0  # the total row of imports of 854231 from Germany, revised up
    with ComtradeServer(revised, [availability(398, PERIOD, 8, "revised", "2022-05-01T00:00:00")]) as server:
        second = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)

    (kz2,) = second.reporters
    rows = duckdb.execute(
        f"""SELECT reporter, flow_code, partner_m49, hs_code, breakdown, previous_value_usd, current_value_usd,
                   previous_manifest_sha256 = current_manifest_sha256
            FROM '{revisions_path(settings, PERIOD, 398, kz2.vintage)}'"""
    ).fetchall()
    assert rows == [("KZ", "M", 276, "854231", "C00/0/0/0", Decimal("1000.0000"), Decimal("1200.0000"), False)]


def test_call_plan_reaches_partners_beyond_the_eu_under_the_cap_and_resumes_after_a_crash(settings: Settings) -> None:
    settings = with_reporters(settings, "KZ", "AM")
    codes = products(settings, keyed=False)
    assert {"870323", "870340", "8703"} <= set(codes), "HS6 of the debate's goods and their HS4 total"
    assert {"854150", "854151", "854159"} <= set(codes), "both HS editions"
    # Kazakhstan trades every watched code with Armenia (a configured country), three members, Russia, and the
    # USA (outside the scope), in three flows split by mode of transport: 600 records in scope per first call.
    combos = [(c, p, f, m) for c in codes for p in (51, 251, 276, 380, 643, 842) for f in FLOWS[:3] for m in (0, 2100)]
    rows = [
        record(period=PERIOD, reporterCode=398, flowCode=f, partnerCode=p, cmdCode=c, motCode=m, primaryValue=i + 1.0)
        for i, (c, p, f, m) in enumerate(combos)
    ]
    rows.append(
        record(period=PERIOD, reporterCode=51, flowCode="X", partnerCode=398, cmdCode="854231", primaryValue=7.0)
    )
    wanted = [r for r in rows if r["partnerCode"] != 842]
    avail = [
        availability(398, PERIOD, len(rows) - 1, "c-kz", "2022-03-15T00:00:00"),
        availability(51, PERIOD, 1, "c-am", "2022-03-15T00:00:00"),
    ]
    plan = call_plan(settings, False, [PERIOD])
    chunks = -(-len(codes) // 20)
    assert (plan.data_calls, plan.calls) == (2 * chunks, 2 * chunks + 1)
    assert "minutes" in plan.describe()

    with ComtradeServer(rows, avail) as server:
        server.inject("preview", "html200")
        server.faults["preview"].extendleft([None] * 3)  # three calls go through, the fourth fails
        with pytest.raises(SourceError):
            ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
        kept = {p.name for p in (settings.raw_dir / "comtrade" / PERIOD / "398").glob("*/q-*.json")}
        assert len(kept) == 3
        first = [r for r in server.requests if "/preview/" in r]
        month = ingest_month(settings, api_for(server), PERIOD, log=lambda _: None)
        second = [r for r in server.requests if "/preview/" in r][len(first) :]

    assert month.status == "loaded", month.check.failures
    assert not set(second) & set(first[:3]), "responses held are not asked for again"
    assert any("reporterCode=398" in r and "51" in r.split("partnerCode=")[1].split("&")[0].split(",") for r in first)
    assert not any("842" in r.split("partnerCode=")[1].split("&")[0].split(",") for r in first + second)
    leaves = [Path(f) for r in month.reporters for f in r.files]
    assert all(sum_values([leaf])[0] < PREVIEW_CAP for leaf in leaves), "every response kept is under the cap"
    assert len(first) + len(second) - 1 > plan.data_calls, "first calls that hit the cap were split"
    got = duckdb.execute(f"SELECT count(*), sum(primaryValue) FROM '{lake_path(settings, PERIOD)}'").fetchall()[0]
    assert got == (len(wanted), Decimal(str(sum(r["primaryValue"] for r in wanted))).quantize(Decimal("0.0001")))
