"""The steps the benchmark measures in their own processes (so `/usr/bin/time -v` sees each one's peak memory).

    python -m benchmarks.steps floor ARCHIVE      unpack the archive, then one DuckDB count(*) over the CSV
    python -m benchmarks.steps ingest YYYYMM      the pipeline's ingest of one Comext month (MIRROR_TRADE_* env)
    python -m benchmarks.steps peer ARCHIVE       what a user would write: unpack, pandas read_csv(dtype=str),
                                                  to_parquet

Each prints one JSON line with the seconds of the work itself (interpreter start excluded, the pipeline's own
imports and Great Expectations' start-up included). The benchmark also times each step as a whole process, which
is what a user waits for and what its targets compare.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def floor(archive: Path) -> dict:
    import duckdb
    import py7zr

    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        started = time.perf_counter()
        with py7zr.SevenZipFile(archive) as z:
            z.extractall(path=tmp)
        unpacked = time.perf_counter()
        (dat,) = Path(tmp).glob("*.dat")
        rows = duckdb.sql(f"SELECT count(*) FROM read_csv('{dat}')").fetchall()[0][0]
        done = time.perf_counter()
    return {"seconds": done - started, "unpack_seconds": unpacked - started, "rows": rows}


def ingest(period: str) -> dict:
    started = time.perf_counter()
    from orchestration.lib.config import load_settings
    from orchestration.lib.http import new_session
    from orchestration.lib.sources.comext.ingest import ingest_month

    settings = load_settings()
    imported = time.perf_counter()
    # Great Expectations starts on a second thread while the month downloads, unpacks and parses (ingest_month):
    # its start-up is inside this figure, overlapped, as in a run.
    outcome = ingest_month(settings, new_session(settings.http), period, log=lambda line: print(line, file=sys.stderr))
    done = time.perf_counter()
    if outcome.status != "loaded":
        raise SystemExit(f"ingest of {period} ended {outcome.status}: {outcome.check and outcome.check.describe()}")
    return {
        "seconds": done - started,
        "import_seconds": imported - started,
        "rows": outcome.rows,
        "check": outcome.check.describe(),
    }


def peer(archive: Path) -> dict:
    import pandas as pd
    import py7zr

    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        started = time.perf_counter()
        with py7zr.SevenZipFile(archive) as z:
            z.extractall(path=tmp)
        (dat,) = Path(tmp).glob("*.dat")
        frame = pd.read_csv(dat, dtype=str)
        frame.to_parquet(Path(tmp) / "month.parquet")
        done = time.perf_counter()
    return {"seconds": done - started, "rows": len(frame)}


def main() -> None:
    step, arg = sys.argv[1], sys.argv[2]
    result = {"floor": floor, "peer": peer}[step](Path(arg)) if step != "ingest" else ingest(arg)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
