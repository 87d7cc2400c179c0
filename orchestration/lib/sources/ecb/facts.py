"""ECB exchange rates: every fact of the source the code relies on, in one place.

From ../shared/docs/SOURCES.md, section 3 (ECB exchange rates, EUR <-> USD): the ECB Data API's series
EXR/M.USD.EUR.SP00.A is the monthly average USD per EUR; `format=csvdata` answers SDMX-CSV, one row a month
(KEY, FREQ, CURRENCY, CURRENCY_DENOM, TIME_PERIOD as YYYY-MM, OBS_VALUE); `startPeriod`/`endPeriod` bound the
months asked for. Comext values are EUR and Comtrade values USD: this rate puts both in one currency.
"""

from __future__ import annotations

SOURCE = "ecb"
SERIES = "EXR/M.USD.EUR.SP00.A"
SERIES_KEY = "EXR.M.USD.EUR.SP00.A"
REQUIRED_COLUMNS = ("KEY", "FREQ", "CURRENCY", "CURRENCY_DENOM", "TIME_PERIOD", "OBS_VALUE")
FILE_NAME = "EXR_M.USD.EUR.SP00.A.csv"


def series_url(base_url: str, start: str, end: str) -> str:
    """`start`/`end` as YYYYMM."""
    return f"{base_url}/data/{SERIES}?format=csvdata&startPeriod={start[:4]}-{start[4:]}&endPeriod={end[:4]}-{end[4:]}"
