"""ECB Data API: monthly average USD per EUR, series EXR/M.USD.EUR.SP00.A, SDMX-CSV (format=csvdata)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import requests

from orchestration.lib import rawstore
from orchestration.lib.config import Settings
from orchestration.lib.errors import FormatError
from orchestration.lib.http import download_file

SOURCE = "ecb"
SERIES = "EXR/M.USD.EUR.SP00.A"
SERIES_KEY = "EXR.M.USD.EUR.SP00.A"
REQUIRED_COLUMNS = ("KEY", "FREQ", "CURRENCY", "CURRENCY_DENOM", "TIME_PERIOD", "OBS_VALUE")
FILE_NAME = "EXR_M.USD.EUR.SP00.A.csv"


def series_url(base_url: str, start: str, end: str) -> str:
    """`start`/`end` as YYYYMM."""
    return f"{base_url}/data/{SERIES}?format=csvdata&startPeriod={start[:4]}-{start[4:]}&endPeriod={end[:4]}-{end[4:]}"


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


def missing_message(periods: list[str]) -> str:
    months = ", ".join(f"{p[:4]}-{p[4:]}" for p in periods)
    return f"ECB {SERIES}: no USD/EUR monthly rate for {months}; values that need it are not published (no_fx_rate)"


def lake_path(settings: Settings, period: str) -> Path:
    return settings.parquet_dir / SOURCE / period / "data.parquet"


def ingest_rates(
    settings: Settings, session: requests.Session, periods: list[str], *, log: Callable[[str], None] = print
) -> tuple[list[Rate], rawstore.Vintage, list[str]]:
    """Fetch the run's months in one call, keep the response as a vintage, write one parquet row per month that
    has a rate. Returns the rates, the vintage, and the months without a rate."""
    start, end = periods[0], periods[-1]
    what = f"ECB {SERIES} {start[:4]}-{start[4:]}..{end[:4]}-{end[4:]}"
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ecb-", dir=settings.tmp_dir))
    try:
        download = download_file(
            session,
            series_url(settings.ecb_url, start, end),
            work / FILE_NAME,
            what=what,
            policy=settings.http,
            log=log,
        )
        vintage, _ = rawstore.store(
            download, settings.raw_dir, source=SOURCE, period=f"{start}-{end}", file_name=FILE_NAME
        )
        rates, missing = read_rates(vintage.path, periods)
        con = duckdb.connect()
        for rate in rates:
            target = lake_path(settings, rate.period)
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = work / f"{rate.period}.parquet"
            con.execute(
                f"""COPY (SELECT strptime(?, '%Y%m')::DATE AS period, CAST(? AS DECIMAL(12, 6)) AS usd_per_eur,
                                 ? AS series_key, ? AS source_file, ? AS source_sha256,
                                 CAST(? AS TIMESTAMPTZ) AS retrieved_at)
                    TO '{staged}' (FORMAT parquet)""",
                [rate.period, rate.usd_per_eur, SERIES_KEY, vintage.file_name, vintage.sha256, vintage.retrieved_at],
            )
            os.replace(staged, target)
        log(f"{what}: {len(rates)} monthly rates, sha256 {vintage.sha256[:12]}")
        if missing:
            log(missing_message(missing))
        return rates, vintage, missing
    finally:
        shutil.rmtree(work, ignore_errors=True)
