"""A local HTTP server that answers like the ECB Data API for the monthly USD/EUR series (csvdata).
Faults (key 'EXR'): the common ones (`servers`)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

from orchestration.demo.servers import FaultyHandler, LocalServer
from orchestration.lib.sources.ecb.facts import SERIES, SERIES_KEY

HEADER = (
    "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF,"
    "OBS_PRE_BREAK,OBS_COM,TIME_FORMAT,BREAKS,COLLECTION,COMPILING_ORG,DISS_ORG,DOM_SER_IDS,PUBL_ECB,PUBL_MU,"
    "PUBL_PUBLIC,UNIT_INDEX_BASE,COMPILATION,COVERAGE,DECIMALS,NAT_TITLE,SOURCE_AGENCY,SOURCE_PUB,TITLE,"
    "TITLE_COMPL,UNIT,UNIT_MULT"
)


class _Handler(FaultyHandler):
    server_state: EcbServer

    def do_GET(self) -> None:
        state = self.server_state
        state.record(self.path, dict(self.headers))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != f"/service/data/{SERIES}" or query.get("format") != "csvdata":
            self.send_body(404, b"No results found.", "text/plain")
            return
        start, end = query.get("startPeriod", "0000-00"), query.get("endPeriod", "9999-99")
        months = [m for m in sorted(state.rates) if start <= m <= end]
        if not months:
            self.send_body(404, b"No results found.", "text/plain")
            return
        lines = [HEADER] + [
            f"{SERIES_KEY},M,USD,EUR,SP00,A,{m},{state.rates[m]:.4f},A,F,,,P1M,,A,,,,,,,,,,4,,4F0,,"
            f'US dollar/Euro,"ECB reference exchange rate, US dollar/Euro, 2:15 pm (C.E.T.)",USD,0'
            for m in months
        ]
        body = ("\n".join(lines) + "\n").encode()
        fault = state.next_fault("EXR")
        if fault and self.send_fault(fault, body, "text/csv"):
            return
        self.send_body(200, body, "text/csv;charset=UTF-8")


class EcbServer(LocalServer):
    handler = _Handler

    def __init__(self, rates: dict[str, float], **kwargs):
        """`rates`: 'YYYY-MM' -> USD per EUR."""
        self.rates = rates
        super().__init__(**kwargs)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/service"


def synthetic_rates(first_year: int, last_year: int) -> dict[str, float]:
    """SYNTHETIC monthly rates for the offline demo: a smooth curve around 1.15, not the ECB's figures."""
    return {
        f"{year}-{month:02d}": round(1.15 + 0.06 * math.sin((year * 12 + month) / 5), 4)
        for year in range(first_year, last_year + 1)
        for month in range(1, 13)
    }
