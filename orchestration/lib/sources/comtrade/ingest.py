"""One month of partner-side data from Comtrade into the raw store and the parquet lake.

getDa first: it says which watched reporter released the month, when, and with which checksum. Each released
(reporter, month) is one vintage folder raw/comtrade/<YYYYMM>/<m49>/<lastReleased>_<checksum>/ holding every
response (q-<hash>.json, each written atomically) and, last, manifest.json. A crash leaves a folder without a
manifest whose responses are reused by the next run, so nothing is downloaded twice; a vintage already complete
is not fetched again; a new release (checksum or date) is a new vintage and the old one stays.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib import reference
from orchestration.lib.config import Settings
from orchestration.lib.periods import month_start
from orchestration.lib.quality.expectations import SuiteResult, validate_relation
from orchestration.lib.rawstore import sha256_of
from orchestration.lib.sources.comtrade.client import ComtradeApi, Query
from orchestration.lib.sources.comtrade.facts import FLOWS, RECORD_FIELDS, SOURCE
from orchestration.lib.sources.comtrade.parse import check_record_fields, records_select, vintage_name

RAW_SUITE = "raw_comtrade_monthly"
MANIFEST = "manifest.json"
RUSSIA_BELARUS = ("RU", "BY")
# A new vintage with fewer than this share of the previous vintage's records is a silent shrink: a failed check.
SHRINK_TOLERANCE = 0.9


@dataclass
class ReporterMonth:
    reporter: str
    m49: int
    period: str
    released: bool
    status: str  # "fetched" | "unchanged" | "not released"
    first_released: str | None = None
    last_released: str | None = None
    dataset_checksum: str | None = None
    total_records: int | None = None
    vintage: str | None = None
    manifest_sha256: str | None = None
    records: int = 0
    previous_records: int | None = None
    files: list[str] = field(default_factory=list)
    # HS codes asked for ('AG6' = every HS6): a code outside them is not covered, which is not a zero.
    products: list[str] = field(default_factory=list)
    # Partners asked for (M49): trade with a country outside them is not covered either.
    partners: list[int] = field(default_factory=list)


@dataclass
class ComtradeMonth:
    period: str
    scope: str
    reporters: list[ReporterMonth]
    status: str = "loaded"  # "loaded" | "rejected"
    rows: int = 0
    check: SuiteResult | None = None

    def as_metadata(self) -> dict:
        return {
            "status": self.status,
            "rows": self.rows,
            "scope": self.scope,
            "released": ",".join(r.reporter for r in self.reporters if r.released),
            "not_released": ",".join(r.reporter for r in self.reporters if not r.released),
            "new_vintages": ",".join(r.reporter for r in self.reporters if r.status == "fetched"),
            "check": self.check.describe() if self.check else None,
        }


def lake_path(settings: Settings, period: str, table: str = "comtrade") -> Path:
    return settings.parquet_dir / table / period / "data.parquet"


def products(settings: Settings, keyed: bool) -> tuple[str, ...]:
    """The HS codes asked for. Keyless: the CHP list, the HS6 codes of the goods named in the sanctions debate (both
    HS editions) and their HS4 totals, which stay as the check that the HS6 leaves add up
    (dbt test partner_hs4_rows_equal_their_hs6_leaves)."""
    if settings.comtrade_products:
        return settings.comtrade_products
    if keyed:
        return ("AG6",)
    return tuple(sorted(set(reference.chp_hs6()) | set(reference.sanctions_debate_hs6()))) + tuple(
        reference.sanctions_debate_hs4()
    )


def scope(settings: Settings, keyed: bool) -> str:
    if settings.comtrade_products:
        return f"configured products ({len(settings.comtrade_products)} codes)"
    if keyed:
        return "all HS6 (final data API)"
    return (
        "watched products only (keyless preview: CHP list HS6 + HS6 and HS4 of the goods named in the sanctions debate)"
    )


def partners(period: str, configured: tuple[str, ...] = (), reporter: str | None = None) -> tuple[int, ...]:
    """EU members of that month, Russia and Belarus, and every configured reporter but the one asking: the legs of
    routes with more than one hop (EU -> X -> Y -> RU/BY) are trade between configured countries."""
    iso2 = set(reference.eu_members(month_start(period))) | set(RUSSIA_BELARUS) | set(configured)
    iso2.discard(reporter)
    return tuple(sorted(reference.comtrade_m49(c) for c in iso2))


# Keyless: products per first call. The preview returns at most 500 records, and a reporter-month of the watched
# codes with ~40 partners and 4 flows rarely fits in one; starting from chunks saves the calls that would only
# hit the cap and be split. A chunk that still hits the cap is split further (ComtradeApi.fetch).
PREVIEW_PRODUCTS_PER_CALL = 20
# A free key allows about 500 calls a day (SOURCES.md section 2).
KEYED_CALLS_PER_DAY = 500


def queries(settings: Settings, keyed: bool, reporter: str, period: str) -> list[Query]:
    """The first calls of one reporter-month; deterministic, so a crashed vintage resumes on the same files."""
    codes = products(settings, keyed)
    size = len(codes) if keyed else PREVIEW_PRODUCTS_PER_CALL
    chunks = [codes[i : i + size] for i in range(0, len(codes), size)]
    their = partners(period, settings.comtrade_reporters, reporter)
    return [Query(reference.comtrade_m49(reporter), period, FLOWS, their, chunk) for chunk in chunks]


@dataclass(frozen=True)
class CallPlan:
    months: int
    reporters: int
    data_calls: int
    interval_s: float
    keyed: bool

    @property
    def calls(self) -> int:
        return self.data_calls + self.months  # one getDa per month

    @property
    def minutes(self) -> float:
        return self.calls * self.interval_s / 60

    def describe(self) -> str:
        text = (
            f"Comtrade call plan: {self.months} months x {self.reporters} reporters, at least {self.calls:,} calls "
            f"({self.data_calls:,} data + {self.months} getDa), about {self.minutes:,.1f} minutes at one call every "
            f"{self.interval_s:g} s; more when a call hits the cap and is split, fewer for reporters that have not "
            f"released a month or whose release is already held"
        )
        if self.keyed:
            text += (
                f"; about {self.calls / KEYED_CALLS_PER_DAY:,.1f} days at a free key's {KEYED_CALLS_PER_DAY} calls/day"
            )
        return text


def call_plan(settings: Settings, keyed: bool, periods: list[str]) -> CallPlan:
    data_calls = sum(len(queries(settings, keyed, r, p)) for p in periods for r in settings.comtrade_reporters)
    return CallPlan(
        months=len(periods),
        reporters=len(settings.comtrade_reporters),
        data_calls=data_calls,
        interval_s=settings.comtrade_min_interval_s,
        keyed=keyed,
    )


def _vintages(settings: Settings, period: str, m49: int) -> list[dict]:
    base = settings.raw_dir / SOURCE / period / str(m49)
    out = []
    for manifest in sorted(base.glob(f"*/{MANIFEST}")):
        data = json.loads(manifest.read_text())
        data["sha256"] = sha256_of(manifest)
        data["vintage"] = manifest.parent.name
        data["dir"] = manifest.parent
        out.append(data)
    return sorted(out, key=lambda d: d["retrieved_at"])


def _fetch_vintage(
    api: ComtradeApi, settings: Settings, rm: ReporterMonth, entry: dict, product_codes: tuple[str, ...], log
) -> None:
    name = vintage_name(entry)
    folder = settings.raw_dir / SOURCE / rm.period / str(rm.m49) / name
    rm.vintage = name
    previous = [v for v in _vintages(settings, rm.period, rm.m49) if v["vintage"] != name]
    rm.previous_records = previous[-1]["records"] if previous else None
    if (folder / MANIFEST).exists():
        manifest = json.loads((folder / MANIFEST).read_text())
        rm.status = "unchanged"
    else:
        folder.mkdir(parents=True, exist_ok=True)
        resumed = len(list(folder.glob("q-*.json")))
        if resumed:
            log(f"Comtrade {rm.period} {rm.reporter}: resuming vintage {name}, {resumed} responses already held")
        planned = queries(settings, api.keyed, rm.reporter, rm.period)
        leaves = [leaf for query in planned for leaf in api.fetch(query, folder)]
        files = []
        for leaf in leaves:
            records = duckdb.execute(
                "SELECT len(data) FROM read_json(?, columns = {'data': 'JSON[]'}, format = 'auto')", [str(leaf)]
            ).fetchall()[0][0]
            files.append({"name": leaf.name, "sha256": sha256_of(leaf), "records": records})
            leaf.chmod(0o444)
        manifest = {
            "source": SOURCE,
            "reporter": rm.reporter,
            "reporter_m49": rm.m49,
            "period": rm.period,
            "mode": "final" if api.keyed else "preview",
            "endpoint": api.data_path,
            "dataset_checksum": entry["datasetChecksum"],
            "first_released": entry["firstReleased"],
            "last_released": entry["lastReleased"],
            "total_records": entry["totalRecords"],
            "products": list(product_codes),
            "partners": list(planned[0].partners),
            "flows": list(FLOWS),
            "retrieved_at": datetime.now(UTC).isoformat(),
            "records": sum(f["records"] for f in files),
            "files": files,
        }
        tmp = folder / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(tmp, folder / MANIFEST)
        rm.status = "fetched"
        write_revisions(settings, rm, previous[-1] if previous else None, folder, manifest, api.keyed)
    rm.manifest_sha256 = sha256_of(folder / MANIFEST)
    rm.products = manifest["products"]
    rm.partners = manifest["partners"]
    rm.records = manifest["records"]
    rm.files = [str(folder / f["name"]) for f in manifest["files"]]


# A record's grain as reported: a revision is compared row by row, breakdowns included (never summed across them).
REVISION_KEYS = ("flowCode", "partnerCode", "cmdCode", "customsCode", "motCode", "mosCode", "partner2Code")


def revisions_path(settings: Settings, period: str, m49: int, vintage: str) -> Path:
    return settings.parquet_dir / "comtrade_revisions" / period / f"{m49}_{vintage}.parquet"


def write_revisions(
    settings: Settings, rm: ReporterMonth, previous: dict | None, folder: Path, manifest: dict, keyed: bool
) -> Path:
    """What the new release of a reporter's month changed for the watched codes against the vintage it replaced,
    per record; empty for a first release, so that every vintage has its revision record."""
    out = revisions_path(settings, rm.period, rm.m49, folder.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = ", ".join(f'"{k}"' for k in REVISION_KEYS)
    # The keyless preview fetches only watched products; with a key (all HS6) keep the watched ones.
    watched = (
        '(left("cmdCode", 6) IN (SELECT unnest(?)) OR left("cmdCode", 4) IN (SELECT unnest(?)))' if keyed else "true"
    )
    params = [reference.watched_hs6(), reference.sanctions_debate_hs4()] if keyed else []

    def side(files: list[Path]) -> str:
        return f"""SELECT {keys}, sum("primaryValue") AS value, sum("netWgt") AS kg
                   FROM ({records_select(files)}) WHERE {watched} GROUP BY {keys}"""

    new_files = [folder / f["name"] for f in manifest["files"]]
    if previous is None or not previous["files"] or not new_files:
        empty = ", ".join(f"NULL::VARCHAR AS {k}" for k in ("flow_code", "hs_code", "breakdown"))
        duckdb.execute(
            f"""COPY (SELECT NULL::VARCHAR AS period, NULL::VARCHAR AS reporter, NULL::INTEGER AS partner_m49, {empty},
                             NULL::DECIMAL(38, 4) AS previous_value_usd, NULL::DECIMAL(38, 4) AS current_value_usd,
                             NULL::VARCHAR AS previous_manifest_sha256, NULL::VARCHAR AS current_manifest_sha256,
                             NULL::VARCHAR AS previous_retrieved_at, NULL::VARCHAR AS current_retrieved_at WHERE false)
                TO '{out}' (FORMAT parquet)"""
        )
        return out
    old_files = [previous["dir"] / f["name"] for f in previous["files"]]
    breakdown = 'concat_ws(\'/\', "customsCode", "motCode", "mosCode", "partner2Code")'
    duckdb.execute(
        f"""COPY (
            WITH before AS ({side(old_files)}), after AS ({side(new_files)})
            SELECT ? AS period, ? AS reporter, "partnerCode" AS partner_m49, "flowCode" AS flow_code,
                   "cmdCode" AS hs_code, {breakdown} AS breakdown,
                   b.value AS previous_value_usd, a.value AS current_value_usd,
                   ? AS previous_manifest_sha256, ? AS current_manifest_sha256,
                   ? AS previous_retrieved_at, ? AS current_retrieved_at
            FROM before AS b FULL OUTER JOIN after AS a USING ({keys})
            WHERE b.value IS DISTINCT FROM a.value OR b.kg IS DISTINCT FROM a.kg
        ) TO '{out}' (FORMAT parquet)""",
        [
            *params,
            *params,
            rm.period,
            rm.reporter,
            previous["sha256"],
            sha256_of(folder / MANIFEST),
            previous["retrieved_at"],
            manifest["retrieved_at"],
        ],
    )
    return out


def _write_records(con: duckdb.DuckDBPyConnection, month: ComtradeMonth, out: Path) -> None:
    files = [Path(f) for r in month.reporters for f in r.files]
    if not files:
        empty = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in RECORD_FIELDS.items())
        con.execute(
            f"""COPY (SELECT {empty}, NULL::VARCHAR AS SOURCE_REPORTER, NULL::VARCHAR AS SOURCE_VINTAGE,
                             NULL::VARCHAR AS SOURCE_SHA256, NULL::VARCHAR AS RESPONSE_FILE WHERE false)
                TO '{out}' (FORMAT parquet)"""
        )
        return
    check_record_fields(files, f"Comtrade {month.period[:4]}-{month.period[4:]}")
    lineage = [(f, r.reporter, r.vintage, r.manifest_sha256) for r in month.reporters for f in r.files]
    con.execute("CREATE OR REPLACE TEMP TABLE lineage (file VARCHAR, reporter VARCHAR, vintage VARCHAR, sha VARCHAR)")
    con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?)", lineage)
    fields = ", ".join(f'r."{n}"' for n in RECORD_FIELDS)
    con.execute(
        f"""COPY (
                SELECT {fields}, l.reporter AS SOURCE_REPORTER, l.vintage AS SOURCE_VINTAGE, l.sha AS SOURCE_SHA256,
                       parse_filename(r.response_file) AS RESPONSE_FILE
                FROM ({records_select(files)}) AS r
                JOIN lineage AS l ON l.file = r.response_file
            ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"""
    )


def _write_availability(con: duckdb.DuckDBPyConnection, month: ComtradeMonth, retrieved_at: str, out: Path) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE availability (
               reporter VARCHAR, reporter_m49 INTEGER, period VARCHAR, released BOOLEAN, status VARCHAR,
               first_released VARCHAR, last_released VARCHAR, dataset_checksum VARCHAR, total_records BIGINT,
               records_fetched BIGINT, previous_vintage_records BIGINT, vintage VARCHAR, manifest_sha256 VARCHAR,
               scope VARCHAR, products VARCHAR[], retrieved_at VARCHAR, partners INTEGER[])"""
    )
    con.executemany(
        "INSERT INTO availability VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.reporter,
                r.m49,
                r.period,
                r.released,
                r.status,
                r.first_released,
                r.last_released,
                r.dataset_checksum,
                r.total_records,
                r.records,
                r.previous_records,
                r.vintage,
                r.manifest_sha256,
                month.scope,
                r.products,
                retrieved_at,
                r.partners,
            )
            for r in month.reporters
        ],
    )
    con.execute(f"COPY availability TO '{out}' (FORMAT parquet)")


def validate_month(
    con: duckdb.DuckDBPyConnection, settings: Settings, month: ComtradeMonth, parquet: Path
) -> SuiteResult:
    shrink = [r.records / r.previous_records for r in month.reporters if r.previous_records and r.status == "fetched"]
    withdrawn = [r.reporter for r in month.reporters if not r.released and r.previous_records is not None]
    summary = {
        "row_count": month.rows,
        "records_vs_previous_vintage": min(shrink) if shrink else None,
        "reporters_withdrawn": len(withdrawn),
    }
    return validate_relation(
        con,
        f"SELECT * FROM read_parquet('{parquet}')",
        suite_name=RAW_SUITE,
        table="raw/comtrade_monthly",
        period=f"{month.period[:4]}-{month.period[4:]}",
        parameters={
            "period_set": [month.period],
            "reporters": [r.m49 for r in month.reporters],
            "partners": list(partners(month.period, settings.comtrade_reporters)) + list(reference.comtrade_aliases()),
            "min_vintage_ratio": SHRINK_TOLERANCE,
        },
        summary=summary,
        allow_empty=not any(r.released for r in month.reporters),
    )


def ingest_month(
    settings: Settings, api: ComtradeApi, period: str, *, log: Callable[[str], None] = print
) -> ComtradeMonth:
    """getDa, then every released watched reporter's vintage, then a validated parquet partition."""
    reporters = [(iso2, reference.comtrade_m49(iso2)) for iso2 in settings.comtrade_reporters]
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"comtrade-{period}-", dir=settings.tmp_dir))
    try:
        da_dir = settings.raw_dir / f"{SOURCE}_availability" / period
        da_dir.mkdir(parents=True, exist_ok=True)
        retrieved_at = datetime.now(UTC)
        da_file = da_dir / f"getDa_{retrieved_at.strftime('%Y%m%dT%H%M%S%fZ')}.json"
        released = {row["reporterCode"]: row for row in api.availability([m for _, m in reporters], period, da_file)}
        da_file.chmod(0o444)
        month = ComtradeMonth(period=period, scope=scope(settings, api.keyed), reporters=[])
        codes = products(settings, api.keyed)
        for iso2, m49 in reporters:
            entry = released.get(m49)
            rm = ReporterMonth(reporter=iso2, m49=m49, period=period, released=entry is not None, status="not released")
            if entry is None:
                previous = _vintages(settings, period, m49)
                rm.previous_records = previous[-1]["records"] if previous else None
            else:
                rm.first_released = entry["firstReleased"]
                rm.last_released = entry["lastReleased"]
                rm.dataset_checksum = entry["datasetChecksum"]
                rm.total_records = entry["totalRecords"]
                _fetch_vintage(api, settings, rm, entry, codes, log)
            month.reporters.append(rm)
            log(f"Comtrade {period[:4]}-{period[4:]} {iso2} ({m49}): {rm.status}, {rm.records:,} records")
        con = duckdb.connect()
        records, availability = work / "records.parquet", work / "availability.parquet"
        _write_records(con, month, records)
        _write_availability(con, month, retrieved_at.isoformat(), availability)
        month.rows = con.execute(f"SELECT count(*) FROM read_parquet('{records}')").fetchall()[0][0]
        month.check = validate_month(con, settings, month, records)
        if not month.check.success:
            month.status = "rejected"
            quarantine = settings.quarantine_dir / SOURCE / period
            quarantine.mkdir(parents=True, exist_ok=True)
            shutil.move(records, quarantine / f"records-{retrieved_at.strftime('%Y%m%dT%H%M%S')}.parquet")
            log(f"Comtrade {period[:4]}-{period[4:]}: REJECTED by {month.check.describe()}")
            return month
        for src, table in ((records, "comtrade"), (availability, "comtrade_availability")):
            target = lake_path(settings, period, table)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
        return month
    finally:
        shutil.rmtree(work, ignore_errors=True)
