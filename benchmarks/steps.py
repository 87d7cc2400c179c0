"""The steps the benchmark measures in their own processes (so `/usr/bin/time -v` sees each one's peak memory).

    python -m benchmarks.steps floor ARCHIVE      unpack the archive, then one DuckDB count(*) over the CSV
    python -m benchmarks.steps ingest YYYYMM      the pipeline's ingest of one Comext month (MIRROR_TRADE_* env)

Each prints one JSON line with the seconds of the work itself (interpreter and Great Expectations start-up
excluded: a run pays them once, however many months it ingests; `gx_startup_seconds` says how long).
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
    from orchestration.lib.config import load_settings
    from orchestration.lib.http import new_session
    from orchestration.lib.quality import expectations
    from orchestration.lib.sources.comext.ingest import ingest_month

    settings = load_settings()
    # Great Expectations' import and context take seconds, once per process (a run that ingests many months pays
    # them once): measured apart.
    warming = time.perf_counter()
    expectations._context()
    started = time.perf_counter()
    outcome = ingest_month(settings, new_session(settings.http), period, log=lambda line: print(line, file=sys.stderr))
    done = time.perf_counter()
    if outcome.status != "loaded":
        raise SystemExit(f"ingest of {period} ended {outcome.status}: {outcome.check and outcome.check.describe()}")
    return {
        "seconds": done - started,
        "gx_startup_seconds": started - warming,
        "rows": outcome.rows,
        "check": outcome.check.describe(),
    }


def main() -> None:
    step, arg = sys.argv[1], sys.argv[2]
    result = floor(Path(arg)) if step == "floor" else ingest(arg)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
