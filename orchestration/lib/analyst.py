"""For analysts in Python: the published warehouse, read-only, as polars (or pandas) frames.

    from orchestration.lib.analyst import frame
    top = frame("SELECT * FROM marts.fct_substitution WHERE year = ? ORDER BY direct_fall_eur DESC LIMIT 10", [2022])

The file is opened read-only for each call and closed after it, so a publication (an atomic rename) is never held
up, and every call reads the newest publication. Any DuckDB client works as well (README, "For analysts").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.lib.config import load_settings

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


class NoPublication(FileNotFoundError):
    pass


def warehouse_path(path: Path | str | None = None) -> Path:
    """The published warehouse: `path`, else $MIRROR_TRADE_HOME/published/warehouse.duckdb."""
    warehouse = Path(path) if path else load_settings().published_warehouse
    if not warehouse.exists():
        raise NoPublication(f"no published warehouse at {warehouse}: run `make demo` or `mirror-trade run` first")
    return warehouse


def connect(path: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse (close it when done, or use it in a `with` block)."""
    return duckdb.connect(str(warehouse_path(path)), read_only=True)


def frame(sql: str, params: Sequence[object] | None = None, path: Path | str | None = None) -> pl.DataFrame:
    """The result of one query as a polars DataFrame."""
    with connect(path) as con:
        return con.sql(sql, params=list(params or [])).pl()


def pandas_frame(sql: str, params: Sequence[object] | None = None, path: Path | str | None = None) -> pd.DataFrame:
    """The same as a pandas DataFrame."""
    with connect(path) as con:
        return con.execute(sql, list(params or [])).df()
