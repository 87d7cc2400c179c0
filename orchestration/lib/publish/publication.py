"""The published warehouse: built privately, replaced atomically, logged; its cost follows what changed.

Two files take turns (double buffering). `published/warehouse.duckdb` is the current publication N, which analysts
open. `build/base.duckdb` is publication N-1, private since it was replaced. A run claims the base by renaming it
to its own build file, `build/run.<run_id>.duckdb`, and brings it up to publication N: the months that publication
N rebuilt are copied into its incremental tables (the big month-partitioned facts), its other tables are copied
whole (the small whole-history marts, seeds and the publication log). dbt then builds the run's window into that
file, the checks run on it, and publishing hard-links the current publication as the next base and renames the
build file over `published/warehouse.duckdb`. Nothing is copied whole, so publishing one new month costs one
month, however many months the warehouse holds.

Without a clean base (the first run; a run that failed after claiming it; a base some reader still holds open)
the run starts from a full copy of the publication instead, and says so. Every file is in DuckDB's v1.0 storage
format from its creation, so analysts' DuckDB 1.x clients can open the publication like 2.x. Build-only schemas
(staging and intermediate views over the parquet lake) are dropped before publishing. Analysts' open connections
keep the old file until they reconnect; nobody ever sees a half-built one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.config import DBT_PROJECT_DIR, Settings, duckdb_connection, rebuilt_from

BUILD_ONLY_SCHEMAS = ("staging", "intermediate")
PUBLISHED_STORAGE_VERSION = "v1.0.0"
STALE_BUILD_SECONDS = 24 * 3600

PUBLICATION_LOG_DDL = """
CREATE TABLE IF NOT EXISTS marts.publication_log (
    publication_id INTEGER NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR NOT NULL,
    window_start DATE,
    window_end DATE,
    months_rebuilt DATE[],
    months DATE[],
    incomplete_months DATE[],
    source_files STRUCT(source VARCHAR, period DATE, reporter VARCHAR, file VARCHAR, sha256 VARCHAR,
                        retrieved_at TIMESTAMPTZ)[],
    coverage_gaps STRUCT(source VARCHAR, period DATE, missing VARCHAR[])[],
    checks_passed VARCHAR[],
    checks_warned VARCHAR[],
    code_version VARCHAR,
    content_fingerprint VARCHAR NOT NULL
)
"""


# The releases a publication holds: one Comext or ECB file per month, one Comtrade vintage per reporter and month.
SOURCE_FILES_VIEW = """
CREATE OR REPLACE TEMP VIEW publication_sources AS
SELECT DISTINCT
    source,
    period,
    CASE WHEN source = 'comtrade' THEN reporter END AS reporter,
    source_file AS file,
    source_sha256 AS sha256,
    retrieved_at
FROM marts.source_coverage
WHERE is_present
"""


class PublicationError(Exception):
    pass


@dataclass(frozen=True)
class PublicationOutcome:
    published: bool
    publication_id: int | None
    path: Path
    months: list[str]
    message: str


def build_path(settings: Settings, run_id: str) -> Path:
    # DuckDB names a file's catalog after the first dot-separated part of its name: every run's build file is
    # catalog "run", so dbt's parse of the project (which names relations by catalog) serves every run.
    return settings.build_dir / f"run.{run_id}.duckdb"


def latest_publication_id(path: Path) -> int | None:
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'marts' AND table_name = 'publication_log'"
        ).fetchone()[0]
        if not exists:
            return None
        return con.execute("SELECT max(publication_id) FROM marts.publication_log").fetchone()[0]


def base_path(settings: Settings) -> Path:
    return settings.build_dir / "base.duckdb"


def _base_marker(settings: Settings) -> Path:
    return settings.build_dir / "base.json"


@dataclass(frozen=True)
class BuildStart:
    path: Path
    how: str  # "empty" | "synced" | "copied"
    detail: str


def prepare_build(settings: Settings, run_id: str) -> BuildStart:
    """The run's private build file, holding exactly the current publication (or empty on the first run)."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    target = build_path(settings, run_id)
    if target.exists():
        return BuildStart(target, "resumed", "the run's build file already exists")
    now = time.time()
    for stale in [*settings.build_dir.glob("run.*.duckdb*"), *settings.build_dir.glob("run-*.duckdb*")]:
        if now - stale.stat().st_mtime > STALE_BUILD_SECONDS:
            stale.unlink(missing_ok=True)
    current_id = latest_publication_id(settings.published_warehouse)
    target.with_suffix(".base.json").write_text(json.dumps({"base_publication_id": current_id}))
    if not settings.published_warehouse.exists():
        with duckdb.connect() as con:
            con.execute(f"ATTACH '{target}' AS build (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
        return BuildStart(target, "empty", "first publication: an empty warehouse")
    claimed = _claim_base(settings, target)
    if claimed is not None:
        try:
            detail = sync_to_publication(settings, target, since_publication=claimed)
            return BuildStart(target, "synced", detail)
        except (duckdb.Error, PublicationError) as exc:
            reason = f"the base could not be brought up to date ({exc})"
    else:
        reason = "no clean base (first run after a failed or interrupted run, or the base is open elsewhere)"
    target.with_name(target.name + ".wal").unlink(missing_ok=True)  # nothing of a failed sync may be replayed
    tmp = target.with_name(target.name + ".copying")
    shutil.copyfile(settings.published_warehouse, tmp)
    os.replace(tmp, target)
    return BuildStart(target, "copied", f"full copy of the publication: {reason}")


def _claim_base(settings: Settings, target: Path) -> int | None:
    """Take the private base (publication N-1) as this run's build file; its publication id, or None."""
    marker, base = _base_marker(settings), base_path(settings)
    if not marker.exists() or not base.exists():
        return None
    base_id = json.loads(marker.read_text()).get("publication_id")
    marker.unlink()  # from here on the base is this run's: if the run fails, it is dirty and never reused
    os.replace(base, target)
    try:  # a reader that still holds it (it was once published) must not see it change: then copy instead
        with duckdb.connect(str(target)):
            pass
    except duckdb.Error:
        target.unlink(missing_ok=True)
        return None
    return base_id


@dataclass(frozen=True)
class IncrementalTable:
    """A dbt model that replaces whole months (column `period`) or years (column `year`) of its table."""

    column: str
    # Its rows depend on earlier months too (lag windows, 12-month windows, baselines: macros/window.sql's
    # rebuilt_by), so a publication of months s..e may have rebuilt its rows of any later month: the sync copies
    # from s on. Otherwise exactly the publication's months.
    later_periods_depend: bool


def incremental_tables() -> dict[tuple[str, str], IncrementalTable]:
    """(schema, table) -> how the dbt models that replace whole months (or years) are keyed (incremental)."""
    from orchestration.lib.dbt_manifest import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    out = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        keys = config.get("unique_key") or []
        keys = [keys] if isinstance(keys, str) else keys
        if node["resource_type"] != "model" or config.get("materialized") != "incremental":
            continue
        column = next((k for k in ("period", "year") if k in keys), None)
        if column:
            later = bool((config.get("meta") or {}).get("later_periods_depend"))
            out[(config.get("schema") or node["schema"], node["alias"])] = IncrementalTable(column, later)
    return out


def _sync_predicate(table: IncrementalTable, windows: list[tuple]) -> tuple[str, list]:
    """The rows of `table` that the publications of `windows` (start, end) may have replaced."""
    if not windows:
        return "false", []
    if table.later_periods_depend:
        first = rebuilt_from(min(start for start, _ in windows))
        if table.column == "year":
            return "year >= ?", [first.year]
        return "period >= ?", [first]
    if table.column == "year":
        return " OR ".join("year BETWEEN ? AND ?" for _ in windows), [d.year for w in windows for d in w]
    return " OR ".join("period BETWEEN ? AND ?" for _ in windows), [d for w in windows for d in w]


def incremental_schema_drift(settings: Settings, build: Path) -> list[str]:
    """Incremental tables of the build whose columns are not the ones their dbt model now documents (an upgrade
    added or renamed a column), or that a published build lacks (an upgrade added the mart). dbt refuses to append
    months to the first (on_schema_change='fail') and would give the second only this run's months; the caller
    rebuilds every month from the lake instead."""
    from orchestration.lib.dbt_manifest import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    documented = {
        (node["config"].get("schema") or node["schema"], node["alias"]): set(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }
    with duckdb_connection(settings, str(build), read_only=True) as con:
        held: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE NOT internal"
        ).fetchall():
            held.setdefault((schema, table), set()).add(column)
    published = ("marts", "publication_log") in held
    return sorted(
        f"{s}.{t}"
        for (s, t), columns in documented.items()
        if ((s, t) in held and held[(s, t)] != columns) or (published and (s, t) not in held)
    )


def sync_to_publication(settings: Settings, target: Path, *, since_publication: int | None) -> str:
    """Bring the base (publication `since_publication`) up to the current publication, copying only what the
    publications since then changed: their windows' months of the incremental tables, and the small tables whole.
    Verified by row counts, table by table; any mismatch is an error (the caller then copies the file whole)."""
    incremental = incremental_tables()
    with duckdb_connection(settings, str(target)) as con:
        con.execute(f"ATTACH '{settings.published_warehouse}' AS pub (READ_ONLY)")
        windows = con.execute(
            "SELECT window_start, window_end FROM pub.marts.publication_log WHERE publication_id > ? ORDER BY 1",
            [since_publication if since_publication is not None else -1],
        ).fetchall()
        if any(start is None or end is None for start, end in windows):
            raise PublicationError("a publication since the base has no recorded window")
        catalog = _catalog(con)
        tables = con.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name IN (?, 'pub') AND NOT temporary",
            [catalog],
        ).fetchall()
        mine = {(s, t) for d, s, t in tables if d == catalog}
        theirs = {(s, t) for d, s, t in tables if d == "pub"}
        months = rows = 0
        for schema, table in sorted(theirs):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            name = f'"{schema}"."{table}"'
            kept = incremental.get((schema, table))
            if kept and (schema, table) in mine and _same_columns(con, catalog, schema, table):
                where, args = _sync_predicate(kept, windows)
                con.execute(f"DELETE FROM {name} WHERE {where}", args)
                con.execute(f"INSERT INTO {name} SELECT * FROM pub.{name} WHERE {where}", args)
                months += len(windows)
            else:
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM pub.{name}")
            mine_rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            pub_rows = con.execute(f"SELECT count(*) FROM pub.{name}").fetchall()[0][0]
            if mine_rows != pub_rows:
                raise PublicationError(f"{schema}.{table}: {mine_rows:,} rows after the sync, {pub_rows:,} published")
            rows += pub_rows
        for schema, table in sorted(mine - theirs):
            con.execute(f'DROP TABLE "{schema}"."{table}"')
        con.execute("DETACH pub")
        con.execute("CHECKPOINT")
    return (
        f"base publication {since_publication} brought up to date: {len(windows)} later publication window(s) "
        f"copied into {len(incremental)} incremental tables, {len(theirs)} tables checked ({rows:,} rows)"
    )


def _same_columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    sql = (
        "SELECT list(column_name || ' ' || data_type ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ?"
    )
    return con.execute(sql, [catalog, schema, table]).fetchall() == con.execute(sql, ["pub", schema, table]).fetchall()


def code_version() -> str:
    """Fingerprint of the dbt project's models, seeds and macros: a change in logic is a change in content."""
    digest = hashlib.sha256()
    for sub in ("models", "seeds", "macros", "dbt_project.yml"):
        root = DBT_PROJECT_DIR / sub
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def publish(
    settings: Settings,
    run_id: str,
    *,
    window: tuple[str, str],
    checks_passed: list[str],
    checks_warned: list[str],
) -> PublicationOutcome:
    """Publish the run's build file. Call only once every blocking check of the run has passed."""
    build = build_path(settings, run_id)
    if not build.exists():
        raise PublicationError(f"no build warehouse for run {run_id} at {build}")
    base_marker = build.with_suffix(".base.json")
    base_id = json.loads(base_marker.read_text())["base_publication_id"] if base_marker.exists() else None
    current_id = latest_publication_id(settings.published_warehouse)
    if current_id != base_id:
        raise PublicationError(
            f"the published warehouse changed during this run (publication {base_id} -> {current_id}); "
            f"this run's build is stale and was not published. Run again."
        )
    version = code_version()
    with duckdb.connect(str(build)) as con:
        for schema in BUILD_ONLY_SCHEMAS:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(PUBLICATION_LOG_DDL)
        con.execute(SOURCE_FILES_VIEW)
        sources = con.execute(
            "SELECT source, period, reporter, file, sha256 FROM publication_sources ORDER BY ALL"
        ).fetchall()
        months = sorted({str(row[1]) for row in sources})
        fingerprint = hashlib.sha256(
            json.dumps([[str(v) for v in row] for row in sources] + [version]).encode()
        ).hexdigest()
        last = con.execute(
            "SELECT content_fingerprint FROM marts.publication_log ORDER BY publication_id DESC LIMIT 1"
        ).fetchone()
        if last and last[0] == fingerprint and settings.published_warehouse.exists():
            con.execute("CHECKPOINT")
            con.close()
            # The build equals the publication: it becomes the next run's base rather than being thrown away.
            _make_base(settings, build, current_id)
            discard_build(settings, run_id)
            return PublicationOutcome(
                published=False,
                publication_id=current_id,
                path=settings.published_warehouse,
                months=months,
                message=(
                    f"nothing changed: the published warehouse (publication {current_id}) already holds "
                    f"these releases and code version {version}; left as is"
                ),
            )
        publication_id = (current_id or 0) + 1
        con.execute(
            """INSERT INTO marts.publication_log
               SELECT ?, ?, ?, ?, ?,
                      (SELECT list(DISTINCT period ORDER BY period) FROM publication_sources
                        WHERE period BETWEEN ? AND ?),
                      (SELECT list(DISTINCT period ORDER BY period) FROM publication_sources),
                      coalesce((SELECT list(DISTINCT period ORDER BY period) FROM marts.source_coverage
                                 WHERE source = 'comext' AND NOT month_complete), []),
                      (SELECT list({'source': source, 'period': period, 'reporter': reporter, 'file': file,
                                    'sha256': sha256, 'retrieved_at': retrieved_at} ORDER BY source, period, reporter)
                         FROM publication_sources),
                      coalesce((SELECT list({'source': source, 'period': period, 'missing': missing}
                                            ORDER BY source, period)
                                  FROM (SELECT source, period, list(reporter ORDER BY reporter) AS missing
                                          FROM marts.source_coverage WHERE NOT is_present GROUP BY ALL)), []),
                      ?, ?, ?, ?""",
            [
                publication_id,
                datetime.now(UTC),
                run_id,
                window[0],
                window[1],
                window[0],
                window[1],
                sorted(checks_passed),
                sorted(checks_warned),
                version,
                fingerprint,
            ],
        )
        con.execute("DROP VIEW publication_sources")
        con.execute("CHECKPOINT")
    with open(build, "rb") as fh:
        os.fsync(fh.fileno())
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    _base_marker(settings).unlink(missing_ok=True)
    next_base = settings.build_dir / f".base-{run_id}.duckdb"
    next_base.unlink(missing_ok=True)
    if settings.published_warehouse.exists():
        os.link(settings.published_warehouse, next_base)  # publication N stays whole, as the next base
    os.replace(build, settings.published_warehouse)  # the publication: one atomic rename
    _fsync_dir(settings.published_dir)
    if next_base.exists():
        _make_base(settings, next_base, current_id)
    discard_build(settings, run_id)
    return PublicationOutcome(
        published=True,
        publication_id=publication_id,
        path=settings.published_warehouse,
        months=months,
        message=f"published publication {publication_id} with {len(months)} months to {settings.published_warehouse}",
    )


def _make_base(settings: Settings, path: Path, publication_id: int | None) -> None:
    """`path` holds publication `publication_id` exactly: keep it as the next run's starting point."""
    os.replace(path, base_path(settings))
    _base_marker(settings).write_text(json.dumps({"publication_id": publication_id}))


def prune_old_runs(directory: Path, keep: int) -> None:
    """Keep the newest `keep` per-run folders (dbt artefacts); older ones go."""
    if not directory.is_dir():
        return
    runs = sorted((p for p in directory.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchall()[0][0]


def discard_build(settings: Settings, run_id: str) -> None:
    build = build_path(settings, run_id)
    for path in (build, build.with_name(build.name + ".wal"), build.with_suffix(".base.json")):
        path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
