"""Reading a saved ECB csvdata response: the columns it must have, only the one series, a positive rate a month."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib.errors import FormatError
from orchestration.lib.sources.ecb.facts import REQUIRED_COLUMNS, SERIES, SERIES_KEY


@dataclass(frozen=True)
class Rate:
    period: str  # YYYYMM
    usd_per_eur: Decimal


def read_rates(path: Path, periods: list[str]) -> tuple[list[Rate], list[str]]:
    """The monthly rates of `periods` from a saved csvdata response, and the months it has no positive rate for
    (values that need one are not published: the mirror marts flag them no_fx_rate)."""
    what = f"ECB {SERIES} {periods[0][:4]}-{periods[0][4:]}..{periods[-1][:4]}-{periods[-1][4:]}"
    con = duckdb.connect()
    try:
        columns = [
            r[0] for r in con.execute("DESCRIBE SELECT * FROM read_csv(?, all_varchar = true)", [str(path)]).fetchall()
        ]
    except duckdb.Error as exc:
        raise FormatError(f"{what}: response is not CSV: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FormatError(f"{what}: CSV lacks columns {', '.join(missing)} (has {', '.join(columns[:8])}...)")
    rows = con.execute(
        """SELECT KEY, FREQ, CURRENCY, CURRENCY_DENOM, TIME_PERIOD, TRY_CAST(OBS_VALUE AS DECIMAL(12, 6))
           FROM read_csv(?, all_varchar = true)""",
        [str(path)],
    ).fetchall()
    wrong = {r[0] for r in rows if r[0] != SERIES_KEY or r[1:4] != ("M", "USD", "EUR")}
    if wrong:
        raise FormatError(f"{what}: rows of another series {sorted(wrong)}; expected only {SERIES_KEY}")
    by_month = {r[4].replace("-", ""): r[5] for r in rows}
    absent = [p for p in periods if not by_month.get(p) or by_month[p] <= 0]
    return [Rate(p, by_month[p]) for p in periods if p not in absent], absent
