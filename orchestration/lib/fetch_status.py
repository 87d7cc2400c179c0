"""The last attempt at each source and month: ok, rejected by its checks, or failed (source down, bad answer).

A source that is down leaves its previous data in place; this record is how marts.source_coverage says so.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.config import Settings

STATUSES = ("ok", "rejected", "failed")


def status_path(settings: Settings, source: str, period: str) -> Path:
    return settings.parquet_dir / "fetch_status" / source / f"{period}.parquet"


def record(settings: Settings, source: str, period: str, status: str, error: str | None = None) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown fetch status {status!r}")
    out = status_path(settings, source, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    duckdb.execute(
        f"""COPY (SELECT CAST(? AS VARCHAR) AS source, CAST(? AS VARCHAR) AS period,
                         CAST(? AS TIMESTAMPTZ) AS attempted_at, CAST(? AS VARCHAR) AS status,
                         CAST(? AS VARCHAR) AS error)
            TO '{tmp}' (FORMAT parquet)""",
        [source, period, datetime.now(UTC), status, error],
    )
    os.replace(tmp, out)
