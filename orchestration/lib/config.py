"""Settings from the environment, with working defaults. The one place that knows where state lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SAMPLE_DATA_DIR = REPO_ROOT / "sample_data"

DEFAULT_COMEXT_URL = "https://ec.europa.eu/eurostat/api/dissemination/files"
DEFAULT_COMTRADE_URL = "https://comtradeapi.un.org"
DEFAULT_ECB_URL = "https://data-api.ecb.europa.eu/service"
# Transit and partner countries whose own reports we read from Comtrade (ISO alpha-2).
DEFAULT_COMTRADE_REPORTERS = ("KZ", "KG", "UZ", "AM", "GE", "TR", "AE", "CN", "RS", "MN", "AZ", "TJ")
# dbt targets of dbt_project/profiles.yml the pipeline builds on (MIRROR_TRADE_DBT_TARGET): DuckDB's private build
# file, or a Spark session over the same lake (docs/scale-out.md).
DBT_TARGETS = ("build", "spark")

# The pre-invasion baseline (dbt vars baseline_start/baseline_end read the same variables with the same defaults:
# dbt_project/dbt_project.yml; tests/test_publication.py holds both to each other).
DEFAULT_BASELINE = ("2019-01-01", "2021-12-01")


def baseline_window() -> tuple[date, date]:
    """The baseline's first and last month, as dbt sees them."""
    start = os.environ.get("MIRROR_TRADE_BASELINE_START", DEFAULT_BASELINE[0])
    end = os.environ.get("MIRROR_TRADE_BASELINE_END", DEFAULT_BASELINE[1])
    return date.fromisoformat(start), date.fromisoformat(end)


def rebuilt_from(window_start: date) -> date:
    """The first month a run starting at `window_start` may rebuild in a mart whose rows depend on other months
    (macros/window.sql's rebuild_start): that month, or the baseline's first month when the run touches the
    baseline (every baseline changed, the baseline months' own rows included)."""
    start, end = baseline_window()
    return min(window_start, start) if window_start <= end else window_start


SPARK_BUILD_ONLY = (
    "MIRROR_TRADE_DBT_TARGET=spark: the warehouse was built on Spark ({window}); the blocking checks and the "
    "publication read a DuckDB build, so this run stops here and publishes nothing. Spark's tables are in "
    "MIRROR_TRADE_SPARK_DIR/warehouse; docs/scale-out.md says how a cluster publishes them."
)


@dataclass(frozen=True)
class HttpPolicy:
    """How politely and how persistently we talk to a source."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    max_attempts: int = 5
    backoff_base_s: float = 2.0
    max_wait_s: float = 300.0


@dataclass(frozen=True)
class Settings:
    home: Path
    comext_url: str
    http: HttpPolicy
    # Largest unpacked month we accept; a real month is ~400 MB, so 4 GB means a broken or hostile archive.
    max_unpacked_bytes: int
    # Row count of a month must lie within [prev/band, prev*band] of the previous month.
    row_count_band: float
    comtrade_url: str = DEFAULT_COMTRADE_URL
    comtrade_api_key: str | None = None
    comtrade_reporters: tuple[str, ...] = DEFAULT_COMTRADE_REPORTERS
    # Empty: the CHP list's HS6 codes plus the goods named in the sanctions debate (all HS6 with a key).
    comtrade_products: tuple[str, ...] = ()
    # Seconds between two Comtrade calls (the free tiers allow about one call every few seconds).
    comtrade_min_interval_s: float = 2.0
    # Records per call: the keyless preview returns at most 500; a free key up to 100,000.
    comtrade_max_records: int = 100_000
    ecb_url: str = DEFAULT_ECB_URL
    # Months the nightly release check looks back over: Eurostat revises until October of the following year.
    revision_window_months: int = 24
    # DuckDB's memory cap in the pipeline's own connections (ingest, checks, publication); it spills past it.
    duckdb_memory_limit: str = "512MB"
    # The dbt target the warehouse is built on (DBT_TARGETS); only "build" (DuckDB) is checked and published.
    dbt_target: str = "build"

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def parquet_dir(self) -> Path:
        return self.home / "parquet"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def build_dir(self) -> Path:
        return self.home / "build"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_warehouse(self) -> Path:
        return self.published_dir / "warehouse.duckdb"

    @property
    def dbt_runs_dir(self) -> Path:
        return self.home / "dbt_runs"

    def dbt_run_dir(self, run_id: str) -> Path:
        """One run's dbt artefacts: run_results.json and dbt.log."""
        return self.dbt_runs_dir / f"run-{run_id}"

    @property
    def dbt_parse_dir(self) -> Path:
        """dbt's parse of the project without a run's month window, kept between runs (lib/dbt_prepared.py)."""
        return self.home / "dbt_parse"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def comext_parquet_dir(self) -> Path:
        return self.parquet_dir / "comext"


class ConfigError(ValueError):
    """A setting in the environment is not what it must be; the message names the variable and its value."""


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def _list_env(name: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in (os.environ.get(name) or "").split(",") if part.strip())


def load_settings() -> Settings:
    home = Path(os.environ.get("MIRROR_TRADE_HOME") or REPO_ROOT / "data").resolve()
    http = HttpPolicy(
        connect_timeout_s=_float_env("MIRROR_TRADE_HTTP_CONNECT_TIMEOUT", 10.0),
        read_timeout_s=_float_env("MIRROR_TRADE_HTTP_READ_TIMEOUT", 120.0),
        max_attempts=int(_float_env("MIRROR_TRADE_HTTP_MAX_ATTEMPTS", 5)),
        backoff_base_s=_float_env("MIRROR_TRADE_HTTP_BACKOFF", 2.0),
        max_wait_s=_float_env("MIRROR_TRADE_HTTP_MAX_WAIT", 300.0),
    )
    return Settings(
        home=home,
        comext_url=(os.environ.get("MIRROR_TRADE_COMEXT_URL") or DEFAULT_COMEXT_URL).rstrip("/"),
        http=http,
        max_unpacked_bytes=int(_float_env("MIRROR_TRADE_MAX_UNPACKED_BYTES", 4 * 1024**3)),
        row_count_band=_float_env("MIRROR_TRADE_ROW_COUNT_BAND", 3.0),
        comtrade_url=(os.environ.get("MIRROR_TRADE_COMTRADE_URL") or DEFAULT_COMTRADE_URL).rstrip("/"),
        comtrade_api_key=os.environ.get("COMTRADE_API_KEY") or None,
        comtrade_reporters=_list_env("MIRROR_TRADE_COMTRADE_REPORTERS") or DEFAULT_COMTRADE_REPORTERS,
        comtrade_products=_list_env("MIRROR_TRADE_COMTRADE_PRODUCTS"),
        comtrade_min_interval_s=_float_env("MIRROR_TRADE_COMTRADE_MIN_INTERVAL", 2.0),
        comtrade_max_records=int(_float_env("MIRROR_TRADE_COMTRADE_MAX_RECORDS", 100_000)),
        ecb_url=(os.environ.get("MIRROR_TRADE_ECB_URL") or DEFAULT_ECB_URL).rstrip("/"),
        revision_window_months=int(_float_env("MIRROR_TRADE_REVISION_WINDOW_MONTHS", 24)),
        duckdb_memory_limit=os.environ.get("MIRROR_TRADE_DUCKDB_MEMORY_LIMIT") or "512MB",
        dbt_target=_dbt_target(),
    )


def _dbt_target() -> str:
    target = os.environ.get("MIRROR_TRADE_DBT_TARGET") or "build"
    if target not in DBT_TARGETS:
        raise ConfigError(
            f"MIRROR_TRADE_DBT_TARGET={target!r} is not a target of dbt_project/profiles.yml ({', '.join(DBT_TARGETS)})"
        )
    return target


def duckdb_connection(settings: Settings, database: str = ":memory:", **kwargs):
    """A DuckDB connection of the pipeline: capped memory, spilling to the run's temp folder, and free to reorder
    rows (no step relies on insertion order), which lets big scans stream instead of buffering."""
    import duckdb

    con = duckdb.connect(database, **kwargs)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{settings.duckdb_memory_limit}'")
    con.execute(f"SET temp_directory = '{settings.tmp_dir / 'duckdb-spill'}'")
    con.execute("SET preserve_insertion_order = false")
    return con
