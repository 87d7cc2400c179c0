"""End to end: `mirror-trade run` (real Dagster, real dbt, real DuckDB) against a local Comext server.

One warehouse home for the module; tests run in file order and each states what it expects of the one before.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest

from orchestration.demo.comtrade import ComtradeServer
from orchestration.demo.ecb import EcbServer
from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib import reference
from tests import partner_data
from tests.conftest import SAMPLE_COMEXT, copy_sample, read_member, rewrite_sample

pytestmark = pytest.mark.e2e

MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))

# Rows added to the real 2022-02 file so that the run must filter and sum: a second statistical procedure for
# an existing key (summed), an import and an intra-EU row (both excluded), and a confidential code (kept).
EXTRA_202202 = [
    "DE,KZ,E,85423190,XXXXX,XXXX,XXXX,XXX,XXXXXX,16,2,2,NO_SU,202202,1000,1000,3,0",
    "DE,KZ,E,85423190,XXXXX,XXXX,XXXX,XXX,XXXXXX,16,1,1,NO_SU,202202,7777,7777,1,0",
    "DE,FR,I,85423190,XXXXX,XXXX,XXXX,XXX,XXXXXX,16,2,1,NO_SU,202202,8888,8888,1,0",
    "FR,KG,E,85XXXXXX,XXXXX,XXXX,XXXX,XXX,XXXXXX,16,2,1,NO_SU,202202,4242,4242,0,0",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("e2e")
    served = root / "served"
    served.mkdir()
    copy_sample(served, "202201", "202203")
    rewrite_sample("202202", served, lambda lines: lines + EXTRA_202202)
    records, availability = partner_data.world({"202201": 1, "202202": 2}, routes=True)
    with (
        EurostatFileServer(served) as server,
        ComtradeServer(records, availability) as comtrade,
        EcbServer(partner_data.RATES) as ecb,
    ):
        env = {
            **{k: v for k, v in os.environ.items() if k != "COMTRADE_API_KEY"},
            "MIRROR_TRADE_HOME": str(root / "home"),
            "MIRROR_TRADE_COMEXT_URL": server.base_url,
            "MIRROR_TRADE_COMTRADE_URL": comtrade.base_url,
            "MIRROR_TRADE_COMTRADE_REPORTERS": "KZ,AM,GE",
            "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
            "MIRROR_TRADE_ECB_URL": ecb.base_url,
            "MIRROR_TRADE_HTTP_BACKOFF": "0.01",
            "DAGSTER_HOME": str(root / "home" / "dagster"),
        }
        yield {"root": root, "served": served, "env": env, "home": root / "home", "comtrade": comtrade}


def run(world: dict, start: str, end: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MIRROR_TRADE, "run", "--start", start, "--end", end],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def published(world: dict) -> Path:
    return world["home"] / "published" / "warehouse.duckdb"


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_exports(archive: Path) -> dict[tuple, Decimal]:
    """Extra-EU exports summed per (period, reporter, partner, cn8), straight from the archive's text."""
    _, text = read_member(archive)
    header, *lines = text.splitlines()
    col = {name: i for i, name in enumerate(header.split(","))}
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in lines:
        f = line.split(",")
        if f[col["FLOW"]] == "2" and f[col["TRADE_TYPE"]] == "E":
            period = date(int(f[col["PERIOD"]][:4]), int(f[col["PERIOD"]][4:]), 1)
            key = (period, f[col["REPORTER"]], f[col["PARTNER"]], f[col["PRODUCT_NC"]])
            sums[key] += Decimal(f[col["VALUE_EUR"]])
    return dict(sums)


def test_two_real_months_are_published_with_values_equal_to_the_raw_files(world: dict) -> None:
    result = run(world, "2022-01", "2022-02")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "published publication 1 with 2 months" in result.stdout

    expected = {}
    for period in ("202201", "202202"):
        expected.update(expected_exports(world["served"] / f"full_v2_{period}.7z"))
    with duckdb.connect(str(published(world)), read_only=True) as con:
        rows = con.execute("SELECT period, reporter, partner, cn8, value_eur FROM marts.fct_eu_exports").fetchall()
        got = {tuple(r[:4]): r[4] for r in rows}
        assert len(rows) == len(got), "one row per (period, reporter, partner, cn8)"
        assert got == expected
        # the added rows: procedures summed, import and intra-EU left out, confidential kept without hs6
        base = expected_exports(SAMPLE_COMEXT / "full_v2_202202.7z")[(date(2022, 2, 1), "DE", "KZ", "85423190")]
        assert got[(date(2022, 2, 1), "DE", "KZ", "85423190")] == base + 1000
        assert (date(2022, 2, 1), "DE", "FR", "85423190") not in got
        hs6, confidential, tier = con.execute(
            """SELECT hs6, is_confidential, chp_tier FROM marts.fct_eu_exports
               WHERE period = DATE '2022-02-01' AND reporter = 'FR' AND partner = 'KG' AND cn8 = '85XXXXXX'"""
        ).fetchall()[0]
        assert (hs6, confidential, tier) == (None, True, None)
        assert con.execute("SELECT DISTINCT chp_tier FROM marts.fct_eu_exports WHERE hs6 = '854231'").fetchall() == [
            ("1",)
        ]

        (log,) = con.execute(
            "SELECT publication_id, months, source_files, checks_passed, checks_warned, coverage_gaps "
            "FROM marts.publication_log"
        ).fetchall()
        assert log[0] == 1
        assert log[1] == [date(2022, 1, 1), date(2022, 2, 1)]
        comext = {s["file"]: s["sha256"] for s in log[2] if s["source"] == "comext"}
        assert comext == {
            f"full_v2_{p}.7z": file_sha(world["served"] / f"full_v2_{p}.7z") for p in ("202201", "202202")
        }
        assert sorted((s["reporter"], str(s["period"])) for s in log[2] if s["source"] == "comtrade") == [
            ("AM", "2022-01-01"),
            ("AM", "2022-02-01"),
            ("KZ", "2022-01-01"),
            ("KZ", "2022-02-01"),
        ]
        assert [s["source"] for s in log[2]].count("ecb") == 2
        for check in (
            "raw/comext_monthly:gx_raw_comext_monthly",
            "raw/comtrade_monthly:gx_raw_comtrade_monthly",
            "marts/fct_eu_exports:gx_fct_eu_exports",
            "marts/fct_partner_trade:gx_fct_partner_trade",
        ):
            assert check in log[3]
        assert any("unique_combination_fct_eu_exports" in c for c in log[3])
        assert log[4] == [
            "marts/fct_partner_trade:partner_hs4_rows_equal_their_hs6_leaves",  # KZ's 8542 and AM's 8703 HS4 rows
            "marts/source_coverage:all_true_source_coverage_month_complete",  # Georgia never released
        ]
        assert [(g["source"], g["missing"]) for g in log[5]] == [("comtrade", ["GE"]), ("comtrade", ["GE"])]
        schemas = {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
        assert schemas == {"marts", "reference"}, "build-only views never reach analysts"


def test_partner_totals_equal_hand_computed_sums_of_the_served_rows(world: dict) -> None:
    with duckdb.connect(str(published(world)), read_only=True) as con:
        rows = set(
            con.execute(
                "SELECT period, reporter, flow, partner, hs_code, value_usd FROM marts.fct_partner_trade"
            ).fetchall()
        )
        assert rows == partner_data.expected_totals(date(2022, 1, 1), 1, routes=True) | partner_data.expected_totals(
            date(2022, 2, 1), 2, routes=True
        )
        aggregation = dict(
            con.execute(
                "SELECT reporter, any_value(aggregation) FROM marts.fct_partner_trade WHERE flow = 'M' GROUP BY 1"
            ).fetchall()
        )
        assert aggregation == {"KZ": "total_row", "AM": "sum_mode_of_transport"}
        fx = con.execute("SELECT period, usd_per_eur FROM marts.dim_fx_monthly ORDER BY 1").fetchall()
        assert fx == [(date(2022, 1, 1), Decimal("1.131400")), (date(2022, 2, 1), Decimal("1.134200"))]
        coverage = con.execute(
            """SELECT reporter, list(is_present ORDER BY period), list(row_count ORDER BY period)
               FROM marts.source_coverage WHERE source = 'comtrade' GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        assert coverage == [("AM", [True, True], [7, 7]), ("GE", [False, False], [0, 0]), ("KZ", [True, True], [8, 8])]


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _raw_partner_imports(home: Path, period: str, reporter_m49: int) -> dict[str, Decimal]:
    """Imports from EU members per HS6, straight from the raw Comtrade responses of the vintage: the total row
    when there is one, else the rows split by mode of transport only."""
    (manifest_path,) = (home / "raw" / "comtrade" / period / str(reporter_m49)).glob("*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    eu = {reference.comtrade_m49(c) for c in reference.eu_members(date(int(period[:4]), int(period[4:]), 1))}
    rows: dict[str, list[dict]] = defaultdict(list)
    for entry in manifest["files"]:
        for rec in json.loads((manifest_path.parent / entry["name"]).read_text())["data"]:
            if rec["flowCode"] == "M" and len(rec["cmdCode"]) == 6 and rec["partnerCode"] in eu:
                rows[(rec["cmdCode"], rec["partnerCode"])].append(rec)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (hs6, _), recs in rows.items():
        total = [
            r for r in recs if (r["customsCode"], r["motCode"], r["mosCode"], r["partner2Code"]) == ("C00", 0, "0", 0)
        ]
        by_mode = [
            r
            for r in recs
            if r["motCode"] != 0 and (r["customsCode"], r["mosCode"], r["partner2Code"]) == ("C00", "0", 0)
        ]
        totals[hs6] += sum(Decimal(str(r["primaryValue"])) for r in (total or by_mode))
    return totals


def _raw_rate(home: Path, period: str) -> Decimal:
    for csv_path in (home / "raw" / "ecb").rglob("*.csv"):
        for line in csv_path.read_text().splitlines()[1:]:
            fields = line.split(",")
            if fields[6] == f"{period[:4]}-{period[4:]}":
                return Decimal(fields[7])
    raise AssertionError(f"no raw ECB rate for {period}")


def test_mirror_rows_recomputed_from_the_raw_files_agree_to_the_cent(world: dict) -> None:
    home = world["home"]
    checked = 0
    with duckdb.connect(str(published(world)), read_only=True) as con:
        for period in ("202201", "202202"):
            (archive,) = (home / "raw" / "comext" / period).glob("*/full_v2_*.7z")
            eu_eur: dict[tuple, Decimal] = defaultdict(Decimal)
            for (_, _, partner, cn8), value in expected_exports(archive).items():
                if "X" not in cn8:
                    eu_eur[(partner, cn8[:6])] += value
            rate = _raw_rate(home, period)
            for country, m49 in (("KZ", 398), ("AM", 51)):
                imports = _raw_partner_imports(home, period, m49)
                for hs6 in sorted(set(imports) | {"854231", "851762", "847150"}):
                    eu_usd = _half_up(eu_eur.get((country, hs6), Decimal(0)) * rate)
                    partner = imports.get(hs6, Decimal(0))
                    if eu_usd == 0 and partner == 0:
                        continue
                    got = con.execute(
                        """SELECT eu_exports_usd, partner_imports_from_eu_usd, mirror_gap_usd, usd_per_eur,
                                  coverage_flag
                           FROM marts.fct_mirror_flows
                           WHERE period = ? AND partner_country = ? AND hs6 = ?""",
                        [f"{period[:4]}-{period[4:]}-01", country, hs6],
                    ).fetchall()
                    assert got, (period, country, hs6)
                    eu_got, partner_got, gap_got, rate_got, flag = got[0]
                    assert flag == "complete"
                    assert rate_got == rate, "the month's own ECB rate"
                    assert eu_got == eu_usd, (period, country, hs6)
                    assert partner_got == partner, (period, country, hs6)
                    assert gap_got == _half_up(eu_usd * Decimal("1.06")) - partner, (period, country, hs6)
                    checked += 1
    assert checked >= 8


def _raw_flow_total(home: Path, period: str, reporter_m49: int, flows: set[str], partner_m49: int, hs6: str) -> Decimal:
    """A reporter's flows to one partner for one code, straight from the raw responses of its vintage: the total
    rows when there are, else the rows split by mode of transport only."""
    (manifest_path,) = (home / "raw" / "comtrade" / period / str(reporter_m49)).glob("*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    total = Decimal(0)
    for flow in flows:
        recs = [
            rec
            for entry in manifest["files"]
            for rec in json.loads((manifest_path.parent / entry["name"]).read_text())["data"]
            if (rec["flowCode"], rec["partnerCode"], rec["cmdCode"]) == (flow, partner_m49, hs6)
        ]
        totals = [
            r for r in recs if (r["customsCode"], r["motCode"], r["mosCode"], r["partner2Code"]) == ("C00", 0, "0", 0)
        ]
        by_mode = [
            r
            for r in recs
            if r["motCode"] != 0 and (r["customsCode"], r["mosCode"], r["partner2Code"]) == ("C00", "0", 0)
        ]
        total += sum(Decimal(str(r["primaryValue"])) for r in (totals or by_mode))
    return total


def test_a_three_hop_route_rebuilt_from_the_raw_files_agrees_to_the_cent(world: dict) -> None:
    # EU -> Armenia (Comext) -> Kazakhstan (Armenia's exports, split by mode of transport) -> Russia (Kazakhstan's
    # exports and re-exports)
    home = world["home"]
    with duckdb.connect(str(published(world)), read_only=True) as con:
        for period in ("202201", "202202"):
            (archive,) = (home / "raw" / "comext" / period).glob("*/full_v2_*.7z")
            eu_eur = sum(
                (
                    v
                    for (_, _, partner, cn8), v in expected_exports(archive).items()
                    if partner == "AM" and cn8[:6] == "854231"
                ),
                Decimal(0),
            )
            first = _half_up(eu_eur * _raw_rate(home, period))
            middle = _raw_flow_total(home, period, 51, {"X", "RX"}, 398, "854231")
            last = _raw_flow_total(home, period, 398, {"X", "RX"}, 643, "854231")
            assert first > 0 and middle > 0 and last > 0, "every leg carries goods"
            got = con.execute(
                """SELECT hops, first_leg_usd, first_leg_reported_by, middle_leg_usd, middle_leg_reported_by,
                          last_leg_usd, last_leg_reported_by, smallest_leg_usd, passable_share
                   FROM marts.fct_trade_routes WHERE period = ? AND route = 'EU>AM>KZ>RU' AND hs6 = '854231'""",
                [f"{period[:4]}-{period[4:]}-01"],
            ).fetchall()
            assert got, period
            hops, first_got, first_by, middle_got, middle_by, last_got, last_by, smallest, share = got[0]
            assert (hops, first_by, middle_by, last_by) == (3, "exporter", "exporter", "exporter")
            assert (first_got, middle_got, last_got) == (first, middle, last), period
            assert smallest == min(first, middle, last)
            assert share == pytest.approx(float(min(first, middle, last) / first), abs=1e-6)


def test_rerun_of_the_same_months_changes_nothing(world: dict) -> None:
    before = file_sha(published(world))
    vintages = sorted(p.name for p in (world["home"] / "raw" / "comext").rglob("manifest.json"))

    result = run(world, "2022-01", "2022-02")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing changed" in result.stdout
    assert file_sha(published(world)) == before
    assert sorted(p.name for p in (world["home"] / "raw" / "comext").rglob("manifest.json")) == vintages
    assert list((world["home"] / "build").glob("run.*.duckdb")) == []


def test_month_failing_its_raw_checks_is_quarantined_never_published_and_named(world: dict) -> None:
    def negative(lines: list[str]) -> list[str]:
        fields = lines[100].split(",")
        fields[14] = "-5"
        return [*lines[:100], ",".join(fields), *lines[101:]]

    rewrite_sample("202106", world["served"], negative)

    result = run(world, "2021-06", "2021-06")

    assert result.returncode == 1, "a failed check is a failure, even when contained"
    explanation = " ".join(result.stderr.split())
    assert "check gx_raw_comext_monthly on raw/comext_monthly failed, month quarantined" in explanation
    assert "VALUE_EUR" in explanation and "2021-06" in explanation
    assert list((world["home"] / "quarantine" / "comext" / "202106").glob("*.parquet"))
    with duckdb.connect(str(published(world)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_eu_exports WHERE period = '2021-06-01'").fetchall() == [
            (0,)
        ], "the month that failed its checks never reaches the warehouse"
        assert con.execute(
            """SELECT DISTINCT last_attempt_status FROM marts.source_coverage
               WHERE source = 'comext' AND period = '2021-06-01'"""
        ).fetchall() == [("rejected",)]
        (warned,) = con.execute(
            "SELECT checks_warned FROM marts.publication_log ORDER BY publication_id DESC LIMIT 1"
        ).fetchall()[0]
        assert "raw/comext_monthly:gx_raw_comext_monthly" in warned


def test_month_failing_a_dbt_test_blocks_publication(world: dict) -> None:
    # Austria's rows relabelled 'GB': a well-formed, known code and still 27 reporters, so the raw suite lets it
    # through; but the UK left the EU in 2020, and the dbt test that every reporter of fct_eu_exports is a member
    # state of the month does not.
    rewrite_sample(
        "202107", world["served"], lambda lines: [("GB" + ln[2:]) if ln.startswith("AT,") else ln for ln in lines]
    )
    before = file_sha(published(world))

    result = run(world, "2021-07", "2021-07")

    assert result.returncode == 1
    assert file_sha(published(world)) == before
    explanation = " ".join(result.stderr.split())
    assert "step warehouse_dbt failed" in explanation
    assert "eu_exports_reporters_are_member_states" in explanation


def test_partial_month_is_published_and_flagged(world: dict) -> None:
    result = run(world, "2022-03", "2022-03")  # the real 2022-03 extract has 26 of 27 reporters

    assert result.returncode == 0, result.stderr[-3000:]
    assert "published publication 3 with 4 months" in result.stdout  # 2021-06 holds its ECB rate
    with duckdb.connect(str(published(world)), read_only=True) as con:
        coverage = con.execute(
            """SELECT period, count(*) FILTER (WHERE is_present), bool_and(month_complete),
                      list(reporter) FILTER (WHERE NOT is_present)
               FROM marts.source_coverage WHERE source = 'comext' AND period >= '2022-01-01'
               GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        assert coverage == [
            (date(2022, 1, 1), 27, True, None),
            (date(2022, 2, 1), 27, True, None),
            (date(2022, 3, 1), 26, False, ["MT"]),
        ]
        months, incomplete, gaps = con.execute(
            "SELECT months, incomplete_months, coverage_gaps FROM marts.publication_log WHERE publication_id = 3"
        ).fetchall()[0]
        assert months == [date(2021, 6, 1), date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)]
        assert incomplete == [date(2021, 6, 1), date(2022, 3, 1)]  # 2021-06: quarantined
        assert {"source": "comext", "period": date(2022, 3, 1), "missing": ["MT"]} in gaps
        assert con.execute("SELECT count(*) FROM marts.fct_eu_exports WHERE period = DATE '2021-06-01'").fetchall() == [
            (0,)
        ], "months that failed their checks never reach the warehouse"


def test_later_complete_release_replaces_the_partial_month(world: dict) -> None:
    malta = "MT,RU,E,85423190,XXXXX,XXXX,XXXX,XXX,XXXXXX,16,2,1,NO_SU,202203,5000,5000,0,0"
    rewrite_sample("202203", world["served"], lambda lines: [*lines, malta])
    new_sha = file_sha(world["served"] / "full_v2_202203.7z")

    result = run(world, "2022-03", "2022-03")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "published publication 4 with 4 months" in result.stdout
    vintages = list((world["home"] / "raw" / "comext" / "202203").glob("*/manifest.json"))
    assert len(vintages) == 2, "the partial release is kept as the older vintage"
    with duckdb.connect(str(published(world)), read_only=True) as con:
        assert con.execute(
            """SELECT count(*) FILTER (WHERE is_present), bool_and(month_complete), list(DISTINCT source_sha256)
               FROM marts.source_coverage WHERE source = 'comext' AND period = '2022-03-01'"""
        ).fetchall() == [(27, True, [new_sha])]
        assert con.execute(
            """SELECT value_eur FROM marts.fct_eu_exports
               WHERE period = '2022-03-01' AND reporter = 'MT' AND partner = 'RU' AND cn8 = '85423190'"""
        ).fetchall() == [(Decimal("5000.00"),)]
        assert con.execute(
            "SELECT count(DISTINCT source_sha256) FROM marts.fct_eu_exports WHERE period = '2022-03-01'"
        ).fetchall() == [(1,)], "no row of the replaced release remains"
        incomplete, files = con.execute(
            "SELECT incomplete_months, source_files FROM marts.publication_log WHERE publication_id = 4"
        ).fetchall()[0]
        assert incomplete == [date(2021, 6, 1)]
        assert [f["sha256"] for f in files if f["period"] == date(2022, 3, 1) and f["source"] == "comext"] == [new_sha]
        revisions = con.execute(
            """SELECT period, reporter, partner, product_code, chp_tier, revision_kind, previous_value, current_value,
                      current_vintage_sha256
               FROM marts.fct_revisions WHERE source = 'comext'"""
        ).fetchall()
        assert revisions == [
            (date(2022, 3, 1), "MT", "RU", "85423190", "1", "added", None, Decimal("5000.00"), new_sha)
        ], "the later release's change to a watched code is shown, nothing else"


def test_dbt_docs_describe_every_published_column(world: dict, tmp_path: Path) -> None:
    from orchestration.lib.config import DBT_PROJECT_DIR
    from orchestration.lib.dbt_manifest import DBT_EXECUTABLE

    copy = tmp_path / "docs.duckdb"
    copy.write_bytes(published(world).read_bytes())
    result = subprocess.run(
        [
            DBT_EXECUTABLE,
            "docs",
            "generate",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "t"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**world["env"], "MIRROR_TRADE_BUILD_DB": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    catalog = json.loads((tmp_path / "t" / "catalog.json").read_text())
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    marts = {
        n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert {
        "fct_mirror_flows",
        "fct_transit_to_russia",
        "fct_russia_mirror_imports",
        "fct_circumvention_signals",
    } <= set(marts)
    for name, node in marts.items():
        published_columns = set(catalog["nodes"][node["unique_id"]]["columns"])
        described = {c for c, meta in node["columns"].items() if meta.get("description")}
        assert published_columns <= described, f"{name}: undocumented {published_columns - described}"


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_source_that_is_down_lets_the_others_publish(world: dict) -> None:
    copy_sample(world["served"], "202204")
    world["comtrade"].inject("getDa", *["503"] * 5)  # every attempt of the month's getDa fails
    before = publication_ids(world)
    with ThreadingHTTPServer(("127.0.0.1", 0), _Webhook) as hook:
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        world["env"]["MIRROR_TRADE_ALERT_WEBHOOK"] = f"http://127.0.0.1:{hook.server_address[1]}/alert"
        try:
            result = run(world, "2022-04", "2022-04")
        finally:
            del world["env"]["MIRROR_TRADE_ALERT_WEBHOOK"]
            hook.shutdown()

    assert result.returncode == 1, "a source that failed is a failure the operator must see"
    explanation = " ".join(result.stderr.split())
    assert "PARTLY FAILED" in explanation and "published publication" in explanation
    assert "raw/comtrade_monthly unavailable: 202204: Comtrade 2022-04 getDa: gave up after 5 attempts" in explanation
    assert "raw/ecb_exchange_rates unavailable: 202204" in explanation, "no ECB rate for the month either"
    assert publication_ids(world) == [*before, before[-1] + 1], "the EU side still published"
    assert [a["status"] for a in _Webhook.received] == ["partial"]
    assert _Webhook.received[0]["text"].startswith("mirror-trade run 2022-04..2022-04 PARTLY FAILED")
    with duckdb.connect(str(published(world)), read_only=True) as con:
        assert con.execute("SELECT count(*) > 0 FROM marts.fct_eu_exports WHERE period = '2022-04-01'").fetchall() == [
            (True,)
        ]
        coverage = con.execute(
            """SELECT source, reporter, is_present, last_attempt_status, last_attempt_error LIKE '%HTTP 503%'
               FROM marts.source_coverage WHERE period = '2022-04-01' AND source <> 'comext' ORDER BY source"""
        ).fetchall()
        assert coverage == [("comtrade", "ALL", False, "failed", True), ("ecb", "EA", False, "failed", False)]
        flags = con.execute(
            "SELECT DISTINCT coverage_flag FROM marts.fct_mirror_flows WHERE period = '2022-04-01'"
        ).fetchall()
        assert flags == [("no_fx_rate",)], "no mirror value is shown without both sides"


def publication_ids(world: dict) -> list[int]:
    with duckdb.connect(str(published(world)), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT publication_id FROM marts.publication_log ORDER BY 1").fetchall()]


def test_a_run_killed_before_publication_is_finished_by_the_next_run(world: dict) -> None:
    copy_sample(world["served"], "202205")
    before_ids, before_bytes = publication_ids(world), published(world).read_bytes()
    build_dir = world["home"] / "build"
    leftovers = set(build_dir.glob("run.*.duckdb"))  # failed runs' build files: never published, never data
    process = subprocess.Popen(
        [MIRROR_TRADE, "run", "--start", "2022-05", "--end", "2022-05"],
        env=world["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while (
        not set(build_dir.glob("run.*.duckdb")) - leftovers and process.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed mid-way"
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and its dbt child, as an OOM killer or a reboot would
    process.wait()

    assert published(world).read_bytes() == before_bytes, "no half-built publication"
    manifests = list((world["home"] / "raw" / "comext" / "202205").glob("*/manifest.json"))
    assert len(manifests) == 1, "the download finished before the kill and is kept"
    assert not list((world["home"] / "raw").rglob("*.part")), "nothing half-written counts"

    result = run(world, "2022-05", "2022-05")

    assert result.returncode == 1, result.stderr[-2000:]  # ECB has no rate for 2022-05 (contained, reported)
    assert "PARTLY FAILED" in result.stderr
    assert publication_ids(world) == [*before_ids, before_ids[-1] + 1], "exactly one new publication"
    assert len(list((world["home"] / "raw" / "comext" / "202205").glob("*/manifest.json"))) == 1
    with duckdb.connect(str(published(world)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_eu_exports WHERE period = '2022-05-01'").fetchall()[0][0] > 0


def test_a_revised_partner_release_shows_in_fct_revisions(world: dict) -> None:
    server = world["comtrade"]
    (total,) = [
        r
        for r in server.records
        if (r["period"], r["reporterCode"], r["flowCode"], r["partnerCode"], r["cmdCode"], r["motCode"])
        == ("202201", 398, "M", 276, "854231", 0)
    ]
    total["primaryValue"] = total["cifvalue"] = 1234.0
    for entry in server.availability:
        if (entry["reporterCode"], entry["period"]) == (398, "202201"):
            entry["datasetChecksum"], entry["lastReleased"] = "revised-202201", "2022-06-15T00:00:00"

    result = run(world, "2022-01", "2022-01")

    assert result.returncode == 0, result.stderr[-2000:]
    with duckdb.connect(str(published(world)), read_only=True) as con:
        assert con.execute(
            """SELECT period, reporter, partner, product_code, breakdown, chp_tier, revision_kind, previous_value,
                      current_value
               FROM marts.fct_revisions WHERE source = 'comtrade'"""
        ).fetchall() == [
            (date(2022, 1, 1), "KZ", "DE", "854231", "C00/0/0/0", "1", "revised", Decimal("1000"), Decimal("1234"))
        ]
        assert con.execute(
            """SELECT value_usd FROM marts.fct_partner_trade
               WHERE period = '2022-01-01' AND reporter = 'KZ' AND flow = 'M' AND partner = 'DE'
                 AND hs_code = '854231'"""
        ).fetchall() == [(Decimal("1234.0000"),)]
