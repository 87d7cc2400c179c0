"""The ECB's monthly USD/EUR rates of a run's months into the raw store (one vintage) and one parquet row a month.

The call is `client`, the checks of the answer `parse`, the facts of the series `facts`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import requests

from orchestration.lib import rawstore
from orchestration.lib.config import Settings
from orchestration.lib.sources.ecb.client import download_series
from orchestration.lib.sources.ecb.facts import FILE_NAME, SERIES, SERIES_KEY, SOURCE
from orchestration.lib.sources.ecb.parse import Rate, read_rates


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
        download = download_series(settings, session, start, end, work / FILE_NAME, log=log)
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
