"""A local HTTP server that answers like the UN Comtrade API v1, over records it is given.

Endpoints: `/public/v1/preview/C/M/HS` (at most 500 records), `/data/v1/get/C/M/HS` (needs the
`Ocp-Apim-Subscription-Key` header), `/public/v1/getDa/C/M/HS` and `/data/v1/getDa/C/M/HS`. Filters on reporterCode,
period, flowCode, partnerCode, cmdCode (comma lists), answers in the real envelope with all 47 record fields.
Faults (keyed 'preview', 'get', 'getDa'): the common ones (localserver) plus 'mismatch' (count differs from the
records sent) and 'error' (status 200 with the `error` field set).
"""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qs, urlsplit

from orchestration.lib.comtrade import FLOWS, PREVIEW_CAP, RECORD_FIELDS
from orchestration.lib.localserver import FaultyHandler, LocalServer

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
    periods: list[str], reporters: list[int], eu_partners: list[int], products: list[str], seed: int = 7
) -> tuple[list[dict], list[dict]]:
    """SYNTHETIC partner-side data for the offline demo (no real Comtrade data ships with the project):
    imports from EU members and exports/re-exports to Russia (643) and Belarus (112), with the quirks of the real
    API: Armenia (51) reports only rows split by mode of transport, and HS4 rows accompany their HS6 rows."""
    rng = random.Random(seed)
    records: list[dict] = []
    avail: list[dict] = []
    hs6 = [p for p in products if len(p) == 6]
    hs4 = [p for p in products if len(p) == 4]
    for period in periods:
        for reporter in reporters:
            start = len(records)
            for product in hs6 + [f"{h}00" for h in hs4]:
                rows = [(flow, partner) for partner in eu_partners if rng.random() < 0.3 for flow in ("M",)]
                rows += [(flow, partner) for partner in (643, 112) for flow in FLOWS[1::2] if rng.random() < 0.4]
                for flow, partner in rows:
                    value = round(rng.lognormvariate(10, 1.5), 2)
                    weight = round(value / rng.uniform(20, 200), 1)
                    common = {"period": period, "reporterCode": reporter, "flowCode": flow, "partnerCode": partner}
                    if reporter == 51:
                        share = round(rng.uniform(0.2, 0.8), 2)
                        for mot, part in ((2100, share), (1000, 1 - share)):
                            records.append(
                                record(
                                    **common,
                                    cmdCode=product,
                                    motCode=mot,
                                    primaryValue=round(value * part, 2),
                                    cifvalue=round(value * part, 2) if flow == "M" else None,
                                    fobvalue=None if flow == "M" else round(value * part, 2),
                                    netWgt=round(weight * part, 1),
                                    qty=round(weight * part, 1),
                                )
                            )
                    else:
                        records.append(
                            record(
                                **common,
                                cmdCode=product,
                                primaryValue=value,
                                cifvalue=value if flow == "M" else None,
                                fobvalue=None if flow == "M" else value,
                                netWgt=weight,
                                qty=weight,
                            )
                        )
            added = records[start:]
            for h in hs4:
                totals: dict[tuple, dict] = {}
                for r in added:
                    if r["cmdCode"].startswith(h):
                        key = (r["flowCode"], r["partnerCode"], r["motCode"])
                        t = totals.setdefault(key, {"primaryValue": 0.0, "netWgt": 0.0})
                        t["primaryValue"] += r["primaryValue"]
                        t["netWgt"] += r["netWgt"]
                for (flow, partner, mot), t in totals.items():
                    value = round(t["primaryValue"], 2)
                    records.append(
                        record(
                            period=period,
                            reporterCode=reporter,
                            flowCode=flow,
                            partnerCode=partner,
                            cmdCode=h,
                            motCode=mot,
                            primaryValue=value,
                            cifvalue=value if flow == "M" else None,
                            fobvalue=None if flow == "M" else value,
                            netWgt=round(t["netWgt"], 1),
                            qty=round(t["netWgt"], 1),
                            isLeaf=False,
                        )
                    )
            count = len(records) - start
            year, month = divmod(int(period[:4]) * 12 + int(period[4:]) + 1, 12)  # released two months later
            released = f"{year}-{month + 1:02d}-15T00:00:00"
            avail.append(availability(reporter, period, count, f"synthetic-{seed}-{reporter}-{period}", released))
    return records, avail
