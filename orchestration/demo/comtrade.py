"""A local HTTP server that answers like the UN Comtrade API v1, over records it is given.

Endpoints: `/public/v1/preview/C/M/HS` (at most 500 records), `/data/v1/get/C/M/HS` (needs the
`Ocp-Apim-Subscription-Key` header), `/public/v1/getDa/C/M/HS` and `/data/v1/getDa/C/M/HS`. Filters on reporterCode,
period, flowCode, partnerCode, cmdCode (comma lists), answers in the real envelope with all 47 record fields.
Faults (keyed 'preview', 'get', 'getDa'): the common ones (`servers`) plus 'mismatch' (count differs from the
records sent) and 'error' (status 200 with the `error` field set).
"""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qs, urlsplit

from orchestration.demo.servers import FaultyHandler, LocalServer
from orchestration.lib.sources.comtrade.facts import PREVIEW_CAP, RECORD_FIELDS

FINAL_CAP = 250_000
FLOW_DESC = {"M": "Import", "X": "Export", "RM": "Re-import", "RX": "Re-export"}
MOT_DESC = {0: "TOTAL MOT", 1000: "Air", 2100: "Road", 2200: "Rail", 9000: "Other"}


def record(**values: object) -> dict:
    """A record with all 47 fields; unless given, a total row (C00, motCode 0, mosCode 0, partner2Code 0)."""
    period = str(values.get("period", "202201"))
    cmd = str(values.get("cmdCode", "854231"))
    base = {
        "typeCode": "C",
        "freqCode": "M",
        "refPeriodId": int(period + "01"),
        "refYear": int(period[:4]),
        "refMonth": int(period[4:]),
        "period": period,
        "reporterCode": 398,
        "reporterISO": None,
        "reporterDesc": None,
        "flowCode": "M",
        "flowDesc": None,
        "partnerCode": 276,
        "partnerISO": None,
        "partnerDesc": None,
        "partner2Code": 0,
        "partner2ISO": "W00",
        "partner2Desc": "World",
        "classificationCode": "H6" if period >= "202201" else "H5",
        "classificationSearchCode": "HS",
        "isOriginalClassification": True,
        "cmdCode": cmd,
        "cmdDesc": None,
        "aggrLevel": len(cmd),
        "isLeaf": len(cmd) == 6,
        "customsCode": "C00",
        "customsDesc": "TOTAL CPC",
        "mosCode": "0",
        "motCode": 0,
        "motDesc": "TOTAL MOT",
        "qtyUnitCode": 8,
        "qtyUnitAbbr": "kg",
        "qty": 0.0,
        "isQtyEstimated": False,
        "altQtyUnitCode": -1,
        "altQtyUnitAbbr": "N/A",
        "altQty": 0.0,
        "isAltQtyEstimated": False,
        "netWgt": 0.0,
        "isNetWgtEstimated": False,
        "grossWgt": 0.0,
        "isGrossWgtEstimated": False,
        "cifvalue": None,
        "fobvalue": None,
        "primaryValue": 0.0,
        "legacyEstimationFlag": 0,
        "isReported": True,
        "isAggregate": False,
    }
    base.update(values)
    base["flowDesc"] = base["flowDesc"] or FLOW_DESC.get(base["flowCode"], base["flowCode"])
    base["motDesc"] = MOT_DESC.get(base["motCode"], base["motDesc"])
    assert set(base) == set(RECORD_FIELDS), set(base) ^ set(RECORD_FIELDS)
    return base


def availability(reporter: int, period: str, records: int, checksum: str, released: str) -> dict:
    return {
        "typeCode": "C",
        "freqCode": "M",
        "clCode": "HS",
        "reporterCode": reporter,
        "reporterISO": None,
        "reporterDesc": None,
        "period": period,
        "totalRecords": records,
        "datasetCode": int(f"{reporter}{period}"),
        "datasetChecksum": checksum,
        "firstReleased": released,
        "lastReleased": released,
        "isOriginalClassification": True,
        "isExtendedFlow": False,
        "isExtendedCustoms": True,
        "isExtendedMot": True,
        "isExtendedPartner2": False,
    }


class _Handler(FaultyHandler):
    server_state: ComtradeServer

    def _envelope(self, data: list[dict], count: int | None = None, error: str = "") -> bytes:
        body = {"elapsedTime": "0.01 secs", "count": len(data) if count is None else count, "data": data}
        body["error"] = error
        return json.dumps(body).encode()

    def do_GET(self) -> None:
        state = self.server_state
        state.record(self.path, dict(self.headers))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        endpoints = {
            "/public/v1/preview/C/M/HS": ("preview", False),
            "/data/v1/get/C/M/HS": ("get", True),
            "/public/v1/getDa/C/M/HS": ("getDa", False),
            "/data/v1/getDa/C/M/HS": ("getDa", True),
        }
        if parts.path not in endpoints:
            self.send_body(404, b'{"statusCode": 404, "message": "Resource not found"}', "application/json")
            return
        name, needs_key = endpoints[parts.path]
        if needs_key and self.headers.get("Ocp-Apim-Subscription-Key") != state.api_key:
            body = b'{"statusCode": 401, "message": "Access denied due to invalid subscription key."}'
            self.send_body(401, body, "application/json")
            return
        if name == "getDa":
            data = [a for a in state.availability if _matches(a, query, ("reporterCode", "period"))]
        else:
            cap = min(int(query.get("maxRecords", PREVIEW_CAP)), FINAL_CAP if needs_key else PREVIEW_CAP)
            keys = ("reporterCode", "period", "flowCode", "partnerCode", "cmdCode", "partner2Code", "motCode")
            data = [r for r in state.candidates(query) if _matches(r, query, keys)][:cap]
        body = self._envelope(data)
        fault = state.next_fault(name)
        if fault and self.send_fault(fault, body, "application/json"):
            return
        if fault == "mismatch":
            body = self._envelope(data, count=len(data) + 7)
        elif fault == "error":
            body = self._envelope([], error="Request could not be processed: service temporarily unavailable")
        self.send_body(200, body, "application/json; charset=utf-8")


def _matches(row: dict, query: dict[str, str], keys: tuple[str, ...]) -> bool:
    for key in keys:
        if key in query and query[key] != "":
            wanted = set(query[key].split(","))
            if str(row[key]) not in wanted:
                return False
    return True


class ComtradeServer(LocalServer):
    handler = _Handler

    def __init__(self, records: list[dict], availability: list[dict], api_key: str = "test-key", **kwargs):
        self.records = records
        self.availability = availability
        self.api_key = api_key
        self._by_reporter_period: dict[tuple[str, str], list[dict]] = {}
        for row in records:
            self._by_reporter_period.setdefault((str(row["reporterCode"]), str(row["period"])), []).append(row)
        super().__init__(**kwargs)

    def candidates(self, query: dict[str, str]) -> list[dict]:
        """Records that may match: the (reporter, period) bucket when the query names one of each."""
        reporter, period = query.get("reporterCode", ""), query.get("period", "")
        if reporter and period and "," not in reporter + period:
            return self._by_reporter_period.get((reporter, period), [])
        return self.records

    @property
    def base_url(self) -> str:
        return self.root_url


def synthetic_dataset(
    eu_exports_usd: dict[tuple[str, int, int, str], float],
    periods: list[str],
    reporters: list[int],
    products: list[str],
    seed: int = 7,
) -> tuple[list[dict], list[dict]]:
    """SYNTHETIC partner-side data for the offline demo (no real Comtrade data ships with the project), shaped
    after the real EU side so the mirror marts have something coherent to compare.

    `eu_exports_usd` maps (period, reporter m49, EU member m49, hs6) to what the EU says it shipped, in USD.
    The partner "records" about three quarters of those flows, at 0.5-1.15 times the EU value (CIF, timing,
    attribution), and sends part on to Russia (643) and Belarus (112), far more from March 2022. With the quirks of
    the real API: Armenia (51) reports only rows split by mode of transport, and HS4 rows accompany the HS6 rows of
    the watched headings."""
    rng = random.Random(seed)
    hs6_watched = {p for p in products if len(p) == 6}
    hs4_watched = {p for p in products if len(p) == 4}
    records: list[dict] = []

    def add(period: str, reporter: int, flow: str, partner: int, cmd: str, value: float) -> None:
        value = round(value, 2)
        weight = round(value / 50, 1)
        common = {"period": period, "reporterCode": reporter, "flowCode": flow, "partnerCode": partner, "cmdCode": cmd}
        cif = flow in ("M", "RM")
        splits = ((2100, 0.7), (1000, 0.3)) if reporter == 51 else ((0, 1.0),)
        for mot, share in splits:
            part = round(value * share, 2)
            records.append(
                record(
                    **common,
                    motCode=mot,
                    primaryValue=part,
                    cifvalue=part if cif else None,
                    fobvalue=None if cif else part,
                    netWgt=round(weight * share, 1),
                    qty=round(weight * share, 1),
                    isLeaf=len(cmd) == 6,
                )
            )

    onward: dict[tuple[str, int, str], float] = {}
    hs4_totals: dict[tuple[str, int, str, int, str], float] = {}
    for (period, reporter, member, hs6), usd in sorted(eu_exports_usd.items()):
        if period not in periods or reporter not in reporters:
            continue
        if hs6 not in hs6_watched and hs6[:4] not in hs4_watched:
            continue
        if rng.random() < 0.25:
            continue  # never recorded by the partner
        value = usd * rng.uniform(0.5, 1.15)
        if hs6 in hs6_watched:
            add(period, reporter, "M", member, hs6, value)
        key4 = (period, reporter, "M", member, hs6[:4])
        hs4_totals[key4] = hs4_totals.get(key4, 0.0) + value
        key = (period, reporter, hs6)
        onward[key] = onward.get(key, 0.0) + value
    for (period, reporter, hs6), imported in sorted(onward.items()):
        after_invasion = period >= "202203"
        for partner, flow, chance, low, high in (
            (643, "X", 0.7 if after_invasion else 0.2, 0.3 if after_invasion else 0.01, 0.9 if after_invasion else 0.1),
            (643, "RX", 0.3 if after_invasion else 0.05, 0.05, 0.3),
            (112, "X", 0.3, 0.02, 0.2),
        ):
            if rng.random() < chance:
                value = imported * rng.uniform(low, high)
                if hs6 in hs6_watched:
                    add(period, reporter, flow, partner, hs6, value)
                key4 = (period, reporter, flow, partner, hs6[:4])
                hs4_totals[key4] = hs4_totals.get(key4, 0.0) + value
    # HS4 rows of the watched headings, beside (never instead of) their HS6 rows
    for (period, reporter, flow, partner, hs4), value in sorted(hs4_totals.items()):
        if hs4 in hs4_watched:
            add(period, reporter, flow, partner, hs4, value)
    avail = []
    for period in periods:
        for reporter in reporters:
            count = sum(1 for r in records if r["period"] == period and r["reporterCode"] == reporter)
            year, month = divmod(int(period[:4]) * 12 + int(period[4:]) + 1, 12)  # released two months later
            released = f"{year}-{month + 1:02d}-15T00:00:00"
            avail.append(availability(reporter, period, count, f"synthetic-{seed}-{reporter}-{period}", released))
    return records, avail
