"""Dagster's event log without an fsync per event.

Dagster's SQLite storage opens a new connection for every event it records and commits it: one run of a month
records about 900 events (every dbt model and test is an asset or a check, each with planned, started and result
events), and on this machine's disk each commit waits for an fsync: 14 ms per event with SQLite's default, 2 ms
without, about 7 s (a tenth) of a one-month demo run. The event log (`$DAGSTER_HOME/history/runs/index.db` and one
`<run id>.db` per run there) is the runs' history for the UI, not data: the warehouse's integrity rests on its own
atomic publication. So its files are written with `PRAGMA synchronous=OFF`: a killed process loses nothing (SQLite
has handed every commit to the operating system); a power cut or kernel crash may damage the history (delete
`$DAGSTER_HOME/history/` to start it again) but never the warehouse. The run storage (`history/runs.db`) and the
schedules' storage keep SQLite's default.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def is_event_log(database: str) -> bool:
    """True for the files of Dagster's SQLite event log: history/runs/index.db and history/runs/<run id>.db."""
    path = Path(database)
    return path.suffix == ".db" and path.parent.name == "runs" and path.parent.parent.name == "history"


@event.listens_for(Engine, "connect")
def _event_log_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    files = dbapi_connection.execute("PRAGMA database_list").fetchall()
    if any(name == "main" and is_event_log(file or "") for _, name, file in files):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
