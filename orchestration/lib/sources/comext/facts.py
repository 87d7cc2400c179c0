"""Eurostat Comext: every fact of the source the code relies on, in one place.

From ../shared/docs/SOURCES.md, section 1 (Eurostat Comext — EU side):
- the bulk download is one 7z per month, `comext/COMEXT_DATA/PRODUCTS/full_v2_YYYYMM.7z`, served by the
  dissemination API's files endpoint with the folder path as one URL-encoded `file` query value; the folder
  listing (`format=csv`) names each file with its size and last update, which is how a revision is seen without
  downloading it;
- the archive holds one comma-separated `full_YYYYMM.dat` with the 18-column v2 header; older files use the v1
  header, mapped here column by column;
- a `YYYY52` period is an annual total that repeats the months and must never be loaded as a month;
- PRODUCT_NC and every other code is text (leading zeros); codes containing `X` are confidential aggregates (kept,
  flagged, left out of HS6 comparisons); FLOW 2 is export; reporters are the 27 member states (Greece `GR`, no EU
  aggregate row); special partner codes (QP..QZ) are kept, never mapped to a country;
- the newest month can be partial (fewer than 27 reporters) and months are revised until about October of the
  next year: a rolling window is fetched again and every vintage kept.
"""

from __future__ import annotations

import re

SOURCE = "comext"
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"

# The column contract, declared once: v2 name -> DuckDB type of the typed parquet.
V2_COLUMNS: dict[str, str] = {
    "REPORTER": "VARCHAR",
    "PARTNER": "VARCHAR",
    "TRADE_TYPE": "VARCHAR",
    "PRODUCT_NC": "VARCHAR",
    "PRODUCT_SITC": "VARCHAR",
    "PRODUCT_CPA21": "VARCHAR",
    "PRODUCT_CPA22": "VARCHAR",
    "PRODUCT_BEC": "VARCHAR",
    "PRODUCT_BEC5": "VARCHAR",
    "PRODUCT_SECTION": "VARCHAR",
    "FLOW": "VARCHAR",
    "STAT_PROCEDURE": "VARCHAR",
    "SUPPL_UNIT": "VARCHAR",
    "PERIOD": "VARCHAR",
    "VALUE_EUR": "DECIMAL(18,2)",
    "VALUE_NAC": "DECIMAL(18,2)",
    "QUANTITY_KG": "DECIMAL(18,3)",
    "QUANTITY_SUPPL_UNIT": "DECIMAL(18,3)",
}

# Legacy v1 header, in file order, with the v2 column each one feeds (None: no v2 equivalent, dropped).
V1_COLUMNS: dict[str, str | None] = {
    "DECLARANT": None,
    "DECLARANT_ISO": "REPORTER",
    "PARTNER": None,
    "PARTNER_ISO": "PARTNER",
    "TRADE_TYPE": "TRADE_TYPE",
    "PRODUCT_NC": "PRODUCT_NC",
    "PRODUCT_SITC": "PRODUCT_SITC",
    "PRODUCT_CPA2002": None,
    "PRODUCT_CPA2008": None,
    "PRODUCT_CPA2_1": "PRODUCT_CPA21",
    "PRODUCT_BEC": "PRODUCT_BEC",
    "PRODUCT_SECTION": "PRODUCT_SECTION",
    "FLOW": "FLOW",
    "STAT_REGIME": "STAT_PROCEDURE",
    "SUPP_UNIT": "SUPPL_UNIT",
    "PERIOD": "PERIOD",
    "VALUE_IN_EUROS": "VALUE_EUR",
    "QUANTITY_IN_KG": "QUANTITY_KG",
    "SUP_QUANTITY": "QUANTITY_SUPPL_UNIT",
}

# A v1 column takes the type of the v2 column it feeds; dropped columns are read as text.
V1_TYPES: dict[str, str] = {c: (V2_COLUMNS[v2] if v2 else "VARCHAR") for c, v2 in V1_COLUMNS.items()}


def month_file_name(period: str) -> str:
    """`period` is YYYYMM."""
    return f"full_v2_{period}.7z"


def month_url(base_url: str, period: str) -> str:
    # Exactly as Eurostat serves it: the folder path is one URL-encoded query value.
    return f"{base_url}?file=comext%2FCOMEXT_DATA%2FPRODUCTS%2F{month_file_name(period)}"


def describe(period: str, file_name: str | None = None) -> str:
    return f"Comext {period[:4]}-{period[4:]} {file_name or month_file_name(period)}"


LISTING_QUERY = (
    "?format=csv&dir=comext%2FCOMEXT_DATA%2FPRODUCTS&hierarchy=false&sizeFormat=NONE&dateFormat=ISO&sort=name"
)
MONTH_FILE = re.compile(r"^full_v2_(\d{4})(\d{2})\.7z$")
