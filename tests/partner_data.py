"""A small Comtrade world with the real API's quirks, and the totals a correct pipeline must make of it.

Reporters: Kazakhstan (398) publishes total rows plus their mode-of-transport breakdown, and an HS4 row beside
its HS6 rows; Armenia (51) publishes only rows split by mode of transport; Georgia (268) has released nothing.
With `routes`, Armenia also exports to Kazakhstan what Kazakhstan sends on to Russia: the middle leg of the
three-hop route EU -> AM -> KZ -> RU.
"""

from __future__ import annotations

from decimal import Decimal

from orchestration.demo.comtrade import availability, record

KZ, AM, GE = 398, 51, 268
DE, FR, RU = 276, 251, 643


def _imports(period: str, reporter: int, partner: int, cmd: str, value: float, **kw) -> dict:
    return record(
        period=period,
        reporterCode=reporter,
        flowCode="M",
        partnerCode=partner,
        cmdCode=cmd,
        primaryValue=value,
        cifvalue=value,
        fobvalue=None,
        netWgt=value / 100,
        qty=value / 100,
        **kw,
    )


def _exports(period: str, reporter: int, flow: str, cmd: str, value: float, partner: int = RU, **kw) -> dict:
    return record(
        period=period,
        reporterCode=reporter,
        flowCode=flow,
        partnerCode=partner,
        cmdCode=cmd,
        primaryValue=value,
        cifvalue=None,
        fobvalue=value,
        netWgt=value / 100,
        qty=value / 100,
        **kw,
    )


def month(period: str, scale: int) -> list[dict]:
    s = scale
    return [
        # Kazakhstan: a total row and its breakdown by mode of transport (must not be added to the total)
        _imports(period, KZ, DE, "854231", 1000.0 * s),
        _imports(period, KZ, DE, "854231", 600.0 * s, motCode=2100),
        _imports(period, KZ, DE, "854231", 400.0 * s, motCode=1000),
        # ... the HS4 row of the same goods, which stays its own row
        _imports(period, KZ, DE, "8542", 1500.0 * s, isLeaf=False),
        # ... a breakdown by customs procedure beside the total (ignored: the total wins)
        _imports(period, KZ, FR, "851762", 250.0 * s),
        _imports(period, KZ, FR, "851762", 240.0 * s, customsCode="C01", customsDesc="Inward processing"),
        _exports(period, KZ, "X", "854231", 300.0 * s),
        _exports(period, KZ, "RX", "854231", 80.0 * s),
        # Armenia: only rows split by mode of transport (sum them), one also split by customs (never added)
        _imports(period, AM, FR, "854231", 300.0 * s, motCode=2100),
        _imports(period, AM, FR, "854231", 200.0 * s, motCode=1000),
        _imports(period, AM, FR, "854231", 900.0 * s, motCode=2100, customsCode="C01"),
        _exports(period, AM, "X", "8703", 700.0 * s, motCode=2100, isLeaf=False),
        _exports(period, AM, "X", "8703", 50.0 * s, motCode=9000, isLeaf=False),
    ]


def route_month(period: str, scale: int) -> list[dict]:
    """Armenia's exports of 854231 to Kazakhstan, split by mode of transport only (as Armenia reports)."""
    return [
        _exports(period, AM, "X", "854231", 1000.25 * scale, partner=KZ, motCode=2100),
        _exports(period, AM, "X", "854231", 234.31 * scale, partner=KZ, motCode=1000),
    ]


def expected_totals(period_date, scale: int, routes: bool = False) -> set[tuple]:
    """(period, reporter, flow, partner, hs_code, value_usd) as fct_partner_trade must hold them."""
    s = Decimal(scale)
    route = {(period_date, "AM", "X", "KZ", "854231", Decimal("1234.56") * s)} if routes else set()
    return route | {
        (period_date, "KZ", "M", "DE", "854231", Decimal("1000") * s),
        (period_date, "KZ", "M", "DE", "8542", Decimal("1500") * s),
        (period_date, "KZ", "M", "FR", "851762", Decimal("250") * s),
        (period_date, "KZ", "X", "RU", "854231", Decimal("300") * s),
        (period_date, "KZ", "RX", "RU", "854231", Decimal("80") * s),
        (period_date, "AM", "M", "FR", "854231", Decimal("500") * s),
        (period_date, "AM", "X", "RU", "8703", Decimal("750") * s),
    }


def world(periods: dict[str, int], routes: bool = False) -> tuple[list[dict], list[dict]]:
    """Records and getDa rows for {period: scale}; Georgia never released."""
    records, avail = [], []
    for period, scale in periods.items():
        rows = month(period, scale) + (route_month(period, scale) if routes else [])
        records += rows
        for reporter in (KZ, AM):
            count = sum(1 for r in rows if r["reporterCode"] == reporter)
            avail.append(
                availability(reporter, period, count, f"chk-{reporter}-{period}-{scale}", "2022-04-15T00:00:00")
            )
    return records, avail


RATES = {"2022-01": 1.1314, "2022-02": 1.1342, "2022-03": 1.1019, "2021-06": 1.2047, "2021-07": 1.1822}
