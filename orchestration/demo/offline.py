"""The offline demo's sources: the bundled real Comext sample and synthetic Comtrade and ECB data, each served by
its stand-in over local HTTP, so that every byte goes through the pipeline's own HTTP, storage and checks.

The synthetic partner side imitates the sample's EU side (what each member state exported to each watched
country, per HS6, in USD), so that the mirror marts have something to compare; it is not real data.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.demo.comtrade import ComtradeServer, synthetic_dataset
from orchestration.demo.ecb import EcbServer, synthetic_rates
from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib import reference
from orchestration.lib.config import SAMPLE_DATA_DIR, Settings
from orchestration.lib.periods import months_between
from orchestration.lib.sources.comext.facts import month_file_name
from orchestration.lib.sources.comext.parse import unpack_month
from orchestration.lib.sources.comtrade.ingest import products


@contextlib.contextmanager
def offline_sources(
    settings: Settings, start: str, end: str
) -> Iterator[tuple[EurostatFileServer, ComtradeServer, EcbServer]]:
    """The three stand-ins, started: Eurostat serving the bundled sample, Comtrade and the ECB serving synthetic
    data for the months `start`..`end` (YYYYMM) that imitates the sample's EU side."""
    periods = months_between(start, end)
    rates = synthetic_rates(int(start[:4]), int(end[:4]))
    reporters = [reference.comtrade_m49(iso2) for iso2 in settings.comtrade_reporters]
    eu_usd = sample_eu_exports_usd(settings, periods, rates)
    records, availability = synthetic_dataset(eu_usd, periods, reporters, list(products(settings, keyed=False)))
    with (
        EurostatFileServer(SAMPLE_DATA_DIR / "comext") as eurostat,
        ComtradeServer(records, availability) as comtrade,
        EcbServer(rates) as ecb,
    ):
        yield eurostat, comtrade, ecb


def sample_eu_exports_usd(settings: Settings, periods: list[str], rates: dict[str, float]) -> dict:
    """What the bundled Comext sample says each member state exported to each watched country, per HS6, in USD:
    the shape the synthetic partner side imitates."""
    m49 = {iso2: reference.comtrade_m49(iso2) for iso2 in settings.comtrade_reporters}
    out: dict[tuple[str, int, int, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for period in periods:
            archive = SAMPLE_DATA_DIR / "comext" / month_file_name(period)
            dat = unpack_month(archive, period, Path(tmp), settings.max_unpacked_bytes)
            rows = duckdb.execute(
                """SELECT REPORTER, PARTNER, left(PRODUCT_NC, 6), sum(CAST(VALUE_EUR AS DECIMAL(18, 2)))
                   FROM read_csv(?, header = true, all_varchar = true)
                   WHERE FLOW = '2' AND PRODUCT_NC NOT LIKE '%X%'
                   GROUP BY ALL""",
                [str(dat)],
            ).fetchall()
            rate = rates[f"{period[:4]}-{period[4:]}"]
            for reporter, partner, hs6, eur in rows:
                if partner in m49:
                    out[(period, m49[partner], reference.comtrade_m49(reporter), hs6)] = float(eur) * rate
    return out
