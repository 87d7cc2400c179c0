"""One Comext month from the source to a validated parquet partition in the lake.

source -> raw vintage (immutable, sha256) -> unpacked .dat (temporary) -> typed parquet (temporary)
-> GX suite -> lake (atomic rename) or quarantine. The lake only ever holds partitions that passed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import requests

from orchestration.lib import rawstore, reference
from orchestration.lib.config import Settings, duckdb_connection
from orchestration.lib.quality import expectations
from orchestration.lib.quality.expectations import SuiteResult, validate_relation
from orchestration.lib.sources.comext.client import download_month
from orchestration.lib.sources.comext.facts import SOURCE, describe, month_file_name
from orchestration.lib.sources.comext.parse import ParquetStats, archive_to_parquet

RAW_SUITE = "raw_comext_monthly"
PARQUET_NAME = "data.parquet"


@dataclass
class MonthOutcome:
    period: str
    vintage: rawstore.Vintage
    new_vintage: bool
    status: str  # "loaded" | "unchanged" | "rejected"
    rows: int
    reporters: list[str]
    check: SuiteResult | None = None
    parquet_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        return {
            "status": self.status,
            "rows": self.rows,
            "reporters_present": len(self.reporters),
            "reporters": ",".join(self.reporters),
            "source_file": self.vintage.file_name,
            "sha256": self.vintage.sha256,
            "size_bytes": self.vintage.size_bytes,
            "retrieved_at": self.vintage.retrieved_at,
            "new_vintage": self.new_vintage,
            "check": self.check.describe() if self.check else "validated when this vintage was first loaded",
        }


def lake_path(settings: Settings, period: str) -> Path:
    return settings.comext_parquet_dir() / period / PARQUET_NAME


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[4:])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}{month:02d}"


def _lake_sha256(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    if not path.exists():
        return None
    row = con.execute(f"SELECT SOURCE_SHA256 FROM read_parquet('{path}', hive_partitioning = false) LIMIT 1").fetchone()
    return row[0] if row else None


def _row_count(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    if not path.exists():
        return None
    return con.execute(f"SELECT count(*) FROM read_parquet('{path}', hive_partitioning = false)").fetchone()[0]


def validate_partition(
    con: duckdb.DuckDBPyConnection, settings: Settings, period: str, parquet: Path, stats: ParquetStats
) -> SuiteResult:
    """The raw suite on the staged month; its row and reporter counts come from the parquet step, not a new scan."""
    previous = _row_count(con, lake_path(settings, previous_period(period)))
    summary = {
        "row_count": stats.rows,
        "row_count_vs_previous": (stats.rows / previous) if previous else None,
        "reporter_count": len(stats.reporters),
    }
    band = settings.row_count_band
    return validate_relation(
        con,
        f"SELECT * FROM read_parquet('{parquet}', hive_partitioning = false)",
        suite_name=RAW_SUITE,
        table="raw/comext_monthly",
        period=f"{period[:4]}-{period[4:]}",
        parameters={
            "period_set": [period],
            "min_ratio": 1 / band,
            "max_ratio": band,
            "known_partners": reference.known_codes(),
        },
        summary=summary,
    )


def ingest_month(
    settings: Settings,
    session: requests.Session,
    period: str,
    *,
    log: Callable[[str], None] = print,
    remote: dict | None = None,
) -> MonthOutcome:
    """Fetch, keep, parse and validate one month. Raises SourceError/FormatError with a clear message.
    `remote` is what the source's listing says of the file now; when the newest held vintage was fetched under
    the same listing entry and is the one in the lake, nothing is downloaded."""
    file_name = month_file_name(period)
    what = describe(period)
    if remote:
        vintages = rawstore.list_vintages(settings.raw_dir, SOURCE, period)
        target = lake_path(settings, period)
        if vintages and vintages[-1].remote == remote and _lake_sha256(duckdb.connect(), target) == vintages[-1].sha256:
            rows, reporters = duckdb.execute(
                f"""SELECT count(*), list(DISTINCT REPORTER ORDER BY REPORTER)
                    FROM read_parquet('{target}', hive_partitioning = false)"""
            ).fetchall()[0]
            log(f"{what}: unchanged in the source's listing since vintage {vintages[-1].sha256[:12]}; not downloaded")
            return MonthOutcome(period, vintages[-1], False, "unchanged", rows, reporters, parquet_path=target)
    expectations.warm_up()  # ready by the time the month is checked
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"comext-{period}-", dir=settings.tmp_dir))
    clock = _StepClock()
    try:
        download = download_month(settings, session, period, work / file_name, log=log)
        vintage, is_new = rawstore.store(
            download, settings.raw_dir, source=SOURCE, period=period, file_name=file_name, remote=remote
        )
        log(
            f"{what}: {'new vintage' if is_new else 'same as held vintage'} "
            f"sha256 {vintage.sha256[:12]}, {vintage.size_bytes:,} bytes"
        )
        con = duckdb_connection(settings)
        target = lake_path(settings, period)
        if _lake_sha256(con, target) == vintage.sha256:
            rows, reporters = con.execute(
                f"""SELECT count(*), list(DISTINCT REPORTER ORDER BY REPORTER)
                    FROM read_parquet('{target}', hive_partitioning = false)"""
            ).fetchone()
            log(f"{what}: parquet partition already holds this vintage ({rows:,} rows); nothing to do")
            return MonthOutcome(period, vintage, is_new, "unchanged", rows, reporters, parquet_path=target)

        rawstore.verify(vintage)
        clock.lap("download")
        staged = work / PARQUET_NAME
        stats = archive_to_parquet(
            vintage.path,
            staged,
            period=period,
            lineage={
                "SOURCE_FILE": file_name,
                "SOURCE_SHA256": vintage.sha256,
                "RETRIEVED_AT": vintage.retrieved_at,
            },
            max_unpacked_bytes=settings.max_unpacked_bytes,
            work_dir=work,
            con=con,
        )
        clock.lap("unpack + parquet")
        check = validate_partition(con, settings, period, staged, stats)
        clock.lap("checks")
        outcome = MonthOutcome(period, vintage, is_new, "loaded", stats.rows, stats.reporters, check=check)
        if not check.success:
            quarantine = settings.quarantine_dir / SOURCE / period / f"{vintage.sha256[:12]}.parquet"
            quarantine.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged, quarantine)
            outcome.status = "rejected"
            outcome.parquet_path = quarantine
            log(f"{what}: REJECTED by {check.describe()}; parquet kept in {quarantine}")
            return outcome
        target.parent.mkdir(parents=True, exist_ok=True)
        write_revisions(con, settings, period, previous=target, current=staged, vintage=vintage)
        os.replace(staged, target)
        clock.lap("revisions")
        outcome.parquet_path = target
        outcome.notes.append(clock.describe())
        log(
            f"{what}: {stats.rows:,} rows ({stats.layout} layout), {len(stats.reporters)} reporters, "
            f"{check.evaluated} expectations passed -> {target} ({clock.describe()})"
        )
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _StepClock:
    """Seconds per step of one ingest, for the log (where the time of a month goes)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps.append((step, now - self.last))
        self.last = now

    def describe(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.laps)


# The raw columns a revision is keyed on, and their names in the revision records (the marts' names).
REVISION_KEYS = {"FLOW": "flow_code", "REPORTER": "reporter", "PARTNER": "partner", "PRODUCT_NC": "cn8"}


def revisions_path(settings: Settings, period: str, sha256: str) -> Path:
    return settings.parquet_dir / "comext_revisions" / period / f"{sha256[:12]}.parquet"


def write_revisions(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    period: str,
    *,
    previous: Path,
    current: Path,
    vintage: rawstore.Vintage,
) -> Path:
    """What changed for the watched codes (CHP list, goods named in the sanctions debate) between the month's
    vintage in the lake and the new one, per (flow, reporter, partner, cn8). Written for every new vintage, empty
    when there is no previous one, so that every vintage has its revision record."""
    out = revisions_path(settings, period, vintage.sha256)
    out.parent.mkdir(parents=True, exist_ok=True)
    watched = "(left(PRODUCT_NC, 6) IN (SELECT unnest(?)) OR left(PRODUCT_NC, 4) IN (SELECT unnest(?)))"
    keys = ", ".join(REVISION_KEYS)
    old = f"read_parquet('{previous}', hive_partitioning = false)" if previous.exists() else None

    def side(relation: str | None) -> str:
        if relation is None:
            nulls = ", ".join(f"NULL::VARCHAR AS {k}" for k in REVISION_KEYS)
            return (
                f"SELECT {nulls}, NULL::DECIMAL(38, 2) AS value, NULL::DECIMAL(38, 3) AS kg, "
                "NULL::VARCHAR AS sha, NULL::VARCHAR AS retrieved WHERE false"
            )
        return f"""SELECT {keys}, sum(VALUE_EUR) AS value, sum(QUANTITY_KG) AS kg,
                          any_value(SOURCE_SHA256) AS sha, any_value(RETRIEVED_AT) AS retrieved
                   FROM {relation} WHERE {watched} GROUP BY {keys}"""

    con.execute(
        f"""COPY (
            WITH before AS ({side(old)}), after AS ({side(f"read_parquet('{current}', hive_partitioning = false)")}),
            shas AS (SELECT (SELECT any_value(sha) FROM before) AS old_sha,
                            (SELECT any_value(retrieved) FROM before) AS old_at)
            SELECT ? AS period, {", ".join(f"coalesce(b.{k}, a.{k}) AS {name}" for k, name in REVISION_KEYS.items())},
                   b.value AS previous_value_eur, a.value AS current_value_eur,
                   b.kg AS previous_quantity_kg, a.kg AS current_quantity_kg,
                   shas.old_sha AS previous_sha256, ? AS current_sha256,
                   shas.old_at AS previous_retrieved_at, ? AS current_retrieved_at
            FROM before AS b FULL OUTER JOIN after AS a USING ({keys}) CROSS JOIN shas
            WHERE (SELECT count(*) FROM before) > 0
              AND (b.value IS DISTINCT FROM a.value OR b.kg IS DISTINCT FROM a.kg)
        ) TO '{out}' (FORMAT parquet)""",
        [
            *([reference.watched_hs6(), reference.sanctions_debate_hs4()] * (2 if old else 1)),
            period,
            vintage.sha256,
            vintage.retrieved_at,
        ],
    )
    return out
