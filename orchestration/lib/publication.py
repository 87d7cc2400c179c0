"""The published warehouse: built privately, replaced atomically, logged.

Each run builds into its own file, `build/run-<run_id>.duckdb`, started as a copy of the current publication
(so the publication is the only persistent warehouse and a failed run leaves nothing behind that matters).
Publishing drops the build-only schemas (staging and intermediate views point at the parquet lake), appends
a row to `marts.publication_log`, copies the database into a fresh file in DuckDB's v1.0 storage format (so DuckDB
1.x clients can open it as well as 2.x) and renames that file over `published/warehouse.duckdb`.
Analysts' open connections keep the old file until they reconnect; nobody ever sees a half-built one.
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

from orchestration.lib.config import DBT_PROJECT_DIR, Settings

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
    return settings.build_dir / f"run-{run_id}.duckdb"


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


def prepare_build(settings: Settings, run_id: str) -> Path:
    """The run's private build file, a copy of the current publication (or empty on the first run)."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    target = build_path(settings, run_id)
    if target.exists():
        return target
    now = time.time()
    for stale in settings.build_dir.glob("run-*.duckdb*"):
        if now - stale.stat().st_mtime > STALE_BUILD_SECONDS:
            stale.unlink(missing_ok=True)
    base_marker = target.with_suffix(".base.json")
    base_marker.write_text(json.dumps({"base_publication_id": latest_publication_id(settings.published_warehouse)}))
    if settings.published_warehouse.exists():
        tmp = target.with_name(target.name + ".copying")
        shutil.copyfile(settings.published_warehouse, tmp)
        os.replace(tmp, target)
    return target


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
            con.close()
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
        settings.published_dir.mkdir(parents=True, exist_ok=True)
        staged = settings.published_dir / f".warehouse-{run_id}.duckdb.tmp"
        staged.unlink(missing_ok=True)
        # Written in DuckDB's v1.0 storage format so that analysts' DuckDB 1.x clients can open it, like 2.x.
        con.execute(f"ATTACH '{staged}' AS publication (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
        con.execute(f'COPY FROM DATABASE "{_catalog(con)}" TO publication')
        con.execute("DETACH publication")
    with open(staged, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staged, settings.published_warehouse)
    _fsync_dir(settings.published_dir)
    discard_build(settings, run_id)
    return PublicationOutcome(
        published=True,
        publication_id=publication_id,
        path=settings.published_warehouse,
        months=months,
        message=f"published publication {publication_id} with {len(months)} months to {settings.published_warehouse}",
    )


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
