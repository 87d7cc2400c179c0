"""Code lists for Python, read from the dbt seeds so that each fact lives in one place."""

from __future__ import annotations

import csv
from datetime import date
from functools import cache

from orchestration.lib.config import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"


@cache
def _rows(seed: str) -> tuple[dict[str, str], ...]:
    with open(SEEDS / f"{seed}.csv", newline="") as fh:
        return tuple(csv.DictReader(fh))


def comtrade_m49(iso2: str) -> int:
    for row in _rows("country_codes"):
        if row["iso2"] == iso2 and row["comtrade_m49"]:
            return int(row["comtrade_m49"])
    raise KeyError(f"no Comtrade code for {iso2!r} in dbt_project/seeds/country_codes.csv")


def eu_members(on: date) -> list[str]:
    day = on.isoformat()
    return sorted(
        row["iso2"]
        for row in _rows("country_codes")
        if row["eu_member_from"]
        and row["eu_member_from"] <= day
        and (not row["eu_member_to"] or row["eu_member_to"] >= day)
    )


def chp_hs6() -> list[str]:
    return sorted(row["hs6"] for row in _rows("chp_list"))


def sanctions_debate_hs4() -> list[str]:
    return sorted(row["hs4"] for row in _rows("sanctions_debate_goods"))


def sanctions_debate_hs6() -> list[str]:
    """The HS6 codes under the debate's HS4 headings in either HS edition (from the corrected concordance), so
    that the keyless preview mirrors those goods at HS6 too, not only as HS4 totals."""
    hs4 = set(sanctions_debate_hs4())
    return sorted({code for link in hs_concordance() for code in link if code[:4] in hs4})


def known_codes() -> list[str]:
    """Every ISO alpha-2 and Eurostat partner code of the country list."""
    return sorted(row["iso2"] for row in _rows("country_codes"))


def comtrade_aliases() -> dict[int, str]:
    """Other Comtrade codes for a country (older code lists) -> ISO alpha-2."""
    return {int(row["comtrade_m49"]): row["iso2"] for row in _rows("comtrade_code_aliases")}


def hs_concordance() -> list[tuple[str, str]]:
    """(hs2017_hs6, hs2022_hs6) links of the UNSD table with the known errors corrected (hs_concordance_corrections),
    the same correction int_reference__hs_concordance applies in dbt."""
    fixes = {
        (r["hs2022_hs6"], r["published_hs2017_hs6"]): r["corrected_hs2017_hs6"]
        for r in _rows("hs_concordance_corrections")
    }
    return sorted(
        {
            (fixes.get((r["hs2022_hs6"], r["hs2017_hs6"]), r["hs2017_hs6"]), r["hs2022_hs6"])
            for r in _rows("hs2022_hs2017_concordance")
        }
    )


def watched_hs6() -> list[str]:
    """HS6 codes watched for revisions: the CHP list, in HS2022 and through its HS2017 predecessors."""
    chp = set(chp_hs6())
    predecessors = {hs2017 for hs2017, hs2022 in hs_concordance() if hs2022 in chp}
    return sorted(chp | predecessors)
