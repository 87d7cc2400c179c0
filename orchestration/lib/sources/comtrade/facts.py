"""UN Comtrade: every fact of the source the code relies on, in one place.

From ../shared/docs/SOURCES.md, section 2 (UN Comtrade — partner side), API v1, monthly HS data:
- with a key: `/data/v1/get/C/M/HS`, header `Ocp-Apim-Subscription-Key`, about 500 calls a day and up to 100,000
  records a call on a free key (`maxRecords` goes to 250,000); without one, the public preview
  `/public/v1/preview/C/M/HS`, at most 500 records a call; throttle, and honour `Retry-After` on 429;
- `/public/v1/getDa/C/M/HS` (or `/data/v1/getDa/...` with a key) says which reporter released which month, when
  (`firstReleased`, `lastReleased`) and with which `datasetChecksum`;
- every response is `{"elapsedTime", "count", "data": [...], "error"}`; a call that returns as many records as
  its cap was probably cut off;
- each record carries 47 fields; codes are text; values are USD, `primaryValue` CIF when reported, else FOB;
- totals are the rows with customsCode C00, motCode 0, mosCode 0, partner2Code 0; some reporters send only rows split
  by motCode (sum them then, never both); HS4 and HS6 rows of the same goods can both be present (never add levels);
- flows M, X, RM (re-import), RX (re-export); partners are M49 codes with non-ISO quirks (France 251, Italy 380,
  381 in older lists), kept in the seeds' country codes, not here.
"""

from __future__ import annotations

SOURCE = "comtrade"
PREVIEW_CAP = 500
FLOWS = ("M", "X", "RM", "RX")

# The 47 record fields, in the API's order, with the DuckDB type of the typed parquet. Codes are text.
RECORD_FIELDS: dict[str, str] = {
    "typeCode": "VARCHAR",
    "freqCode": "VARCHAR",
    "refPeriodId": "BIGINT",
    "refYear": "INTEGER",
    "refMonth": "INTEGER",
    "period": "VARCHAR",
    "reporterCode": "INTEGER",
    "reporterISO": "VARCHAR",
    "reporterDesc": "VARCHAR",
    "flowCode": "VARCHAR",
    "flowDesc": "VARCHAR",
    "partnerCode": "INTEGER",
    "partnerISO": "VARCHAR",
    "partnerDesc": "VARCHAR",
    "partner2Code": "INTEGER",
    "partner2ISO": "VARCHAR",
    "partner2Desc": "VARCHAR",
    "classificationCode": "VARCHAR",
    "classificationSearchCode": "VARCHAR",
    "isOriginalClassification": "BOOLEAN",
    "cmdCode": "VARCHAR",
    "cmdDesc": "VARCHAR",
    "aggrLevel": "INTEGER",
    "isLeaf": "BOOLEAN",
    "customsCode": "VARCHAR",
    "customsDesc": "VARCHAR",
    "mosCode": "VARCHAR",
    "motCode": "INTEGER",
    "motDesc": "VARCHAR",
    "qtyUnitCode": "INTEGER",
    "qtyUnitAbbr": "VARCHAR",
    "qty": "DOUBLE",
    "isQtyEstimated": "BOOLEAN",
    "altQtyUnitCode": "INTEGER",
    "altQtyUnitAbbr": "VARCHAR",
    "altQty": "DOUBLE",
    "isAltQtyEstimated": "BOOLEAN",
    "netWgt": "DOUBLE",
    "isNetWgtEstimated": "BOOLEAN",
    "grossWgt": "DOUBLE",
    "isGrossWgtEstimated": "BOOLEAN",
    "cifvalue": "DECIMAL(24,4)",
    "fobvalue": "DECIMAL(24,4)",
    "primaryValue": "DECIMAL(24,4)",
    "legacyEstimationFlag": "INTEGER",
    "isReported": "BOOLEAN",
    "isAggregate": "BOOLEAN",
}
assert len(RECORD_FIELDS) == 47

AVAILABILITY_FIELDS: dict[str, str] = {
    "reporterCode": "INTEGER",
    "period": "VARCHAR",
    "totalRecords": "BIGINT",
    "datasetChecksum": "VARCHAR",
    "firstReleased": "VARCHAR",
    "lastReleased": "VARCHAR",
}


ENVELOPE_COLUMNS = "{'elapsedTime': 'VARCHAR', 'count': 'BIGINT', 'error': 'VARCHAR', 'data': 'JSON[]'}"

KEY_HEADER = "Ocp-Apim-Subscription-Key"
KEYED_DATA_PATH = "/data/v1/get/C/M/HS"
PREVIEW_DATA_PATH = "/public/v1/preview/C/M/HS"
KEYED_AVAILABILITY_PATH = "/data/v1/getDa/C/M/HS"
PREVIEW_AVAILABILITY_PATH = "/public/v1/getDa/C/M/HS"
KEYED_CAP = 250_000
