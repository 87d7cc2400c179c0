"""The performance benchmark at real Comext scale: one run, one machine, one table (docs/benchmarks.md).

    python -m benchmarks.run                      # new months into 12, 24 and 48 months of 5 million rows
    python -m benchmarks.run --rows 200000 --histories 12 --history 12 --out /tmp/bench.md   # a quick rehearsal

What it does, all against local HTTP servers that speak the sources' formats, every step a whole process:
1. generates the months with benchmarks/generate.py (cached in benchmarks/work/archives-<rows>/; the measured
   months are packed like Eurostat's files, LZMA preset 6; the others at preset 1, which only the setup reads);
2. the floor: unpacking the last month's archive, plus one DuckDB count(*) over the unpacked CSV; the peer a user
   would otherwise write (unpack, pandas `read_csv(dtype=str)`, `to_parquet`);
3. the pipeline's ingest of that month (download, raw vintage, unpack, typed parquet, checks, revisions), at 1,
   2.5 and 5 million rows, so that the slope shows;
4. builds a warehouse month by month as Eurostat would release them (`mirror-trade run`, timed for information),
   the first time in two runs so that the warehouse is in its steady state (a publication kept as the next base);
5. at each history length of `--histories`, one new month's dbt build + checks + publication (its raw month
   already ingested); at `--history`, also a full rebuild of every month into an empty warehouse from the same
   lake, whose marts must equal the incremental warehouse's row for row (the report names any that differ);
6. a nightly run when nothing changed (`mirror-trade nightly`);
7. the analyst's side (benchmarks/queries.py): the README's worked questions and three typical queries on the
   final warehouse, through `mirror-trade sql` and a plain DuckDB client.
Every step runs under `/usr/bin/time -v`, which gives its peak resident memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import py7zr

from benchmarks import generate
from orchestration.lib.config import REPO_ROOT
from orchestration.lib.periods import months_back
from orchestration.lib.sources.comext.facts import month_file_name

WORK = REPO_ROOT / "benchmarks" / "work"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))
GB = 1024**3
# Targets on a 2-core machine, every step counted as a whole process (start-up included).
INGEST_VS_FLOOR = 1.1
INGEST_VS_PEER = 3.0  # at least this many times faster than the pandas peer
MEMORY_LIMIT_BYTES = 1e9  # 1 GB
NEW_MONTH_VS_REBUILD = 0.10
NIGHTLY_VS_INGEST = 0.02


@dataclass
class Measure:
    step: str
    seconds: float  # the work itself, as the step reports it (else the wall time)
    peak_rss: int  # bytes
    detail: str = ""
    wall: float = 0.0  # the whole process, interpreter and library start-up included


def dashed(period: str) -> str:
    return f"{period[:4]}-{period[4:]}"


def _pack(args: tuple[str, int, Path, int]) -> str:
    period, rows, out_dir, preset = args
    generate.PACK_FILTERS[:] = [{"id": py7zr.FILTER_LZMA2, "preset": preset}]
    marker = out_dir / f"{month_file_name(period)}.json"
    wanted = {"rows": rows, "seed": generate.DEFAULT_SEED, "preset": preset, "generator": generate.VERSION}
    archive = out_dir / month_file_name(period)
    if archive.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return f"{archive.name}: cached"
    started = time.perf_counter()
    generate.write_month(period, rows, out_dir)
    marker.write_text(json.dumps(wanted))
    return f"{archive.name}: generated in {time.perf_counter() - started:.0f} s"


def prepare_archives(jobs: list[tuple[str, int, Path, int]]) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        for line in pool.map(_pack, jobs):
            print(f"  {line}", flush=True)


def timed(step: str, argv: list[str], env: dict[str, str], log: Path) -> tuple[Measure, dict | None]:
    """Run `argv` under /usr/bin/time -v; wall seconds, peak RSS, and the JSON line it printed, if any."""
    started = time.perf_counter()
    with open(log, "a") as fh:
        fh.write(f"\n$ {' '.join(argv)}\n")
        fh.flush()
        proc = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, capture_output=True, text=True)
        fh.write(proc.stdout + proc.stderr)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step {step!r} failed (exit {proc.returncode}); see {log}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) * 1024
    payload = None
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            payload = json.loads(line)
            break
    seconds = payload["seconds"] if payload and "seconds" in payload else wall
    return Measure(step, seconds, rss, wall=wall), payload


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    disk = shutil.disk_usage(WORK)
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}; work folder on a disk with "
        f"{disk.free / GB:.0f} GiB free"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of a full month")
    parser.add_argument(
        "--histories",
        default="12,24,48",
        help="months the warehouse holds before each measured new month (comma-separated, ascending)",
    )
    parser.add_argument("--history", type=int, default=24, help="the history of the full-rebuild comparison")
    parser.add_argument("--last-month", default="202609", help="YYYYMM of the last measured new month")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()
    histories = sorted({int(h) for h in args.histories.split(",")} | {args.history})

    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "benchmark.log"
    log.write_text(f"benchmark started {datetime.now(UTC).isoformat()}\n")
    timeline = months_back(args.last_month, histories[-1] + 1)  # month i is new after a history of i months
    new = timeline[histories[-1]]
    sizes = sorted({max(1, args.rows // 5), max(1, args.rows // 2), args.rows})
    archives = {rows: WORK / f"archives-{rows}" for rows in sizes}
    print(f"1. archives: {len(timeline)} months at {args.rows:,} rows; {new} also at {sizes[:-1]}")
    measured = {timeline[h] for h in histories}
    jobs = [(new, rows, archives[rows], 6) for rows in sizes if rows != args.rows]
    jobs += [(period, args.rows, archives[args.rows], 6 if period in measured else 1) for period in timeline]
    prepare_archives(jobs)

    from orchestration.demo.eurostat import EurostatFileServer
    from orchestration.lib.config import load_settings

    results: list[Measure] = []
    slope: list[tuple[int, Measure, Measure, Measure]] = []
    base_env = {
        **os.environ,
        "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
        "MIRROR_TRADE_DEMO_OFFLINE": "1",
    }
    for name in ("COMTRADE_API_KEY", "MIRROR_TRADE_ALERT_WEBHOOK", "DAGSTER_HOME"):
        base_env.pop(name, None)

    # 2-3. floor, the pandas peer and the ingest, per size, each a whole process; each size in a home of its own,
    # so that it is that month's first vintage.
    for rows in sizes:
        home = WORK / f"home-ingest-{rows}"
        shutil.rmtree(home, ignore_errors=True)
        with EurostatFileServer(archives[rows]) as eurostat:
            env = {**base_env, "MIRROR_TRADE_HOME": str(home), "MIRROR_TRADE_COMEXT_URL": eurostat.base_url}
            archive = archives[rows] / month_file_name(new)
            step = [sys.executable, "-m", "benchmarks.steps"]
            floor, info = timed(f"floor {rows:,}", [*step, "floor", str(archive)], env, log)
            floor.detail = (
                f"unpack {info['unpack_seconds']:.1f} s + count(*) {info['seconds'] - info['unpack_seconds']:.1f} s"
            )
            peer, _ = timed(f"peer {rows:,}", [*step, "peer", str(archive)], env, log)
            ingest, info = timed(f"ingest {rows:,}", [*step, "ingest", new], env, log)
            ingest.detail = f"{info['check']}; imports {info['import_seconds']:.1f} s, GX alongside"
        slope.append((rows, floor, peer, ingest))
        print(
            f"2-3. {rows:,} rows (whole processes): floor {floor.wall:.1f} s, pandas peer {peer.wall:.1f} s, "
            f"ingest {ingest.wall:.1f} s",
            flush=True,
        )
        shutil.rmtree(home, ignore_errors=True)

    # 4-6. the warehouse: the history, a new month at each history length, the full rebuild, the nightly.
    home = WORK / "home"
    rebuild_home = WORK / "home-rebuild"
    served = WORK / "served"
    for path in (home, rebuild_home, served):
        shutil.rmtree(path, ignore_errors=True)
    served.mkdir()
    os.environ["MIRROR_TRADE_HOME"] = str(home)
    settings = load_settings()
    growth: list[tuple[int, Measure]] = []
    with EurostatFileServer(served) as eurostat, partner_servers(settings, timeline) as (comtrade, ecb):
        env = {
            **base_env,
            # The timeline's first year is the baseline, so that the research measures (matched baselines,
            # substitution, counterfactual, unit values, the ranking) are built for every later month.
            "MIRROR_TRADE_BASELINE_START": f"{dashed(timeline[0])}-01",
            "MIRROR_TRADE_BASELINE_END": f"{dashed(timeline[min(11, histories[0] - 1)])}-01",
            "MIRROR_TRADE_HOME": str(home),
            "MIRROR_TRADE_COMEXT_URL": eurostat.base_url,
            "MIRROR_TRADE_COMTRADE_URL": comtrade.base_url,
            "MIRROR_TRADE_ECB_URL": ecb.base_url,
        }

        def release(periods: list[str]) -> None:
            """Eurostat's listing shows these months from now on."""
            for period in periods:
                name = month_file_name(period)
                os.link(archives[args.rows] / name, served / name)

        held = 0  # months the warehouse holds
        for history in histories:
            # Bring the warehouse to `history` months in two runs, the last of one month, so that it is in its
            # steady state: a previous publication kept as the next build's base, and the publication before the
            # new month's a single month (the new month's build file is brought up to date with that publication's
            # window: after a run of 11 months it would copy 11 months, which no nightly does).
            runs = [timeline[held : history - 1], timeline[history - 1 : history]]
            for months in (m for m in runs if m):
                release(months)
                setup, _ = timed(
                    "setup", [MIRROR_TRADE, "run", "--start", dashed(months[0]), "--end", dashed(months[-1])], env, log
                )
                results.append(
                    Measure(
                        f"setup: months {dashed(months[0])}..{dashed(months[-1])} ingested and built",
                        setup.wall,
                        setup.peak_rss,
                    )
                )
            held = history
            month = timeline[history]
            release([month])
            ingest_new, info = timed("ingest", [sys.executable, "-m", "benchmarks.steps", "ingest", month], env, log)
            ingest_new.step = f"ingest of {dashed(month)} with {history} months held (whole process)"
            ingest_new.detail = f"{info['check']}; imports {info['import_seconds']:.1f} s, GX alongside"
            results.append(ingest_new)
            # --verbose: the Dagster log's "build file" line says how the build started (build_start).
            one, _ = timed(
                "new month",
                [MIRROR_TRADE, "run", "--verbose", "--start", dashed(month), "--end", dashed(month)],
                env,
                log,
            )
            one.step = f"new month: dbt build + checks + publication of {dashed(month)} into {history} months"
            one.detail = f"{build_start(log)}; {where_the_time_went(home, log, one.wall)}"
            results.append(one)
            growth.append((history, one))
            held = history + 1
            print(f"4-5. new month {dashed(month)} into {history} months: {one.wall:.1f} s", flush=True)
            if history != args.history:
                continue
            main_month, main_one, main_ingest = month, one, ingest_new
            # The full rebuild: an empty warehouse over the same raw vintages and lake (hard links, nothing
            # re-fetched), then every mart compared row for row with the warehouse the new month was added to.
            rebuild_home.mkdir(parents=True)
            for sub in ("raw", "parquet"):
                subprocess.run(["cp", "-al", str(home / sub), str(rebuild_home / sub)], check=True)
            rebuild_env = {**env, "MIRROR_TRADE_HOME": str(rebuild_home)}
            full, _ = timed(
                "rebuild",
                [MIRROR_TRADE, "run", "--start", dashed(timeline[0]), "--end", dashed(month)],
                rebuild_env,
                log,
            )
            full.step = f"full rebuild: dbt build + checks + publication of {history + 1} months"
            full.detail = same_marts(
                home / "published" / "warehouse.duckdb", rebuild_home / "published" / "warehouse.duckdb"
            )
            results.append(full)
            warehouse_size = (home / "published" / "warehouse.duckdb").stat().st_size
            shutil.rmtree(rebuild_home, ignore_errors=True)
            print(f"5. full rebuild of {history + 1} months: {full.wall:.1f} s; {full.detail}", flush=True)

        nightly, _ = timed("nightly", [MIRROR_TRADE, "nightly"], env, log)
        nightly.step = "nightly run, nothing changed"
        nightly.detail = last_line(log, "mirror-trade nightly:")
        results.append(nightly)

        # 7. the analyst's side, on the warehouse as it ends (the longest history)
        from benchmarks import queries

        published = home / "published" / "warehouse.duckdb"
        analyst = queries.table(queries.measure(published), published)

    write_report(args, results, slope, main_one, full, nightly, main_ingest, warehouse_size, growth, main_month)
    with open(args.out, "a") as fh:
        fh.write(f"\nThe analyst's side, on the published warehouse of {len(timeline)} months:\n\n{analyst}")
    print(analyst)


# Provenance, not content: the rebuild fetches the ECB rates again, a new vintage with its own file hash and time.
PROVENANCE = ("source_file", "source_sha256", "retrieved_at", "last_attempt_at", "days_since_retrieval")


def same_marts(a: Path, b: Path) -> str:
    """Every mart of `a` against `b`, row for row (EXCEPT ALL both ways) on every column but the provenance ones;
    the marts that differ are named in the report (and on the console)."""
    with duckdb.connect(str(a), read_only=True) as con:
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'other' AND schema_name = 'marts' "
                "AND table_name <> 'publication_log' ORDER BY 1"
            ).fetchall()
        ]
        rows = 0
        differing: list[str] = []
        for table in tables:
            names = {r[0] for r in con.execute(f"DESCRIBE marts.{table}").fetchall()}
            dropped = [c for c in PROVENANCE if c in names]
            cols = f"* EXCLUDE ({', '.join(dropped)})" if dropped else "*"
            counted = False
            for side, x, y in (
                ("incremental only", f"marts.{table}", f"other.marts.{table}"),
                ("full build only", f"other.marts.{table}", f"marts.{table}"),
            ):
                diff = f"SELECT {cols} FROM {x} EXCEPT ALL SELECT {cols} FROM {y}"
                differ = con.execute(f"SELECT count(*) FROM ({diff})").fetchone()[0]
                if differ and not counted:
                    differing.append(f"{table} ({differ:,} rows)")
                    counted = True
                if differ:  # the rows themselves, for whoever looks for the cause (the rebuild's file is deleted)
                    sample = con.execute(f"{diff} LIMIT 5")
                    names = [d[0] for d in sample.description]
                    for row in sample.fetchall():
                        print(f"benchmark: {table}, {side}: {dict(zip(names, row, strict=True))}", flush=True)
            rows += con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
    aside = f"provenance columns {', '.join(PROVENANCE)} aside"
    if differing:
        print(f"benchmark: the incremental and the full build DIFFER in {', '.join(differing)}", flush=True)
        return f"**DIFFERS** from the incremental warehouse in {', '.join(differing)} ({aside})"
    return f"every mart equal row for row to the incremental warehouse ({len(tables)} marts, {rows:,} rows; {aside})"


@contextlib.contextmanager
def partner_servers(settings, periods: list[str]):
    """SYNTHETIC Comtrade and ECB servers for the benchmark's months (the partner side is small next to Comext:
    a few dozen watched codes per reporter and month)."""
    import random

    from orchestration.demo.comtrade import ComtradeServer, synthetic_dataset
    from orchestration.demo.ecb import EcbServer, synthetic_rates
    from orchestration.lib import reference
    from orchestration.lib.sources.comtrade.ingest import products

    rng = random.Random(6)
    hs6 = sorted(p for p in products(settings, keyed=False) if len(p) == 6)[::8]
    reporters = [reference.comtrade_m49(iso2) for iso2 in settings.comtrade_reporters]
    members = [reference.comtrade_m49(iso2) for iso2 in ("DE", "FR", "IT", "NL", "PL")]
    eu_usd = {
        (period, reporter, member, code): rng.lognormvariate(10, 2)
        for period in periods
        for reporter in reporters
        for member in members
        for code in hs6
    }
    records, availability = synthetic_dataset(eu_usd, periods, reporters, list(products(settings, keyed=False)))
    rates = synthetic_rates(int(periods[0][:4]), int(periods[-1][:4]))
    with ComtradeServer(records, availability) as comtrade, EcbServer(rates) as ecb:
        yield comtrade, ecb


def build_start(log: Path) -> str:
    line = last_line(log, "build file ")
    return line.split(": ", 1)[-1] if line else ""


def where_the_time_went(home: Path, log: Path, whole: float) -> str:
    """The last run's steps from its Dagster event log (one SQLite file per run), grouped: the partner and Comext
    ingest steps, dbt (the build file's preparation and dagster-dbt's set-up included), the GX mart checks, the
    publication, and what the whole process spent outside the pipeline (interpreter, imports, Dagster start-up,
    the summary)."""
    import sqlite3

    run_id = last_line(log, "succeeded (run ").split(")", 1)[0]
    db = home / "dagster" / "history" / "runs" / f"{run_id}.db"
    if not run_id or not db.exists():
        return ""
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute(
            "SELECT dagster_event_type, step_key, timestamp FROM event_logs WHERE dagster_event_type IN "
            "('STEP_START', 'STEP_SUCCESS', 'PIPELINE_START', 'PIPELINE_SUCCESS') ORDER BY id"
        ).fetchall()
    stamp = {(kind, key): datetime.fromisoformat(str(ts)).timestamp() for kind, key, ts in rows}
    groups: dict[str, float] = {"ingest": 0.0, "dbt": 0.0, "GX checks": 0.0, "publication": 0.0}
    for (kind, key), started in stamp.items():
        if kind != "STEP_START" or ("STEP_SUCCESS", key) not in stamp:
            continue
        took = stamp[("STEP_SUCCESS", key)] - started
        group = (
            "ingest" if key.startswith("raw") else "dbt" if key == "warehouse_dbt"
            else "publication" if key.startswith("published") else "GX checks"
        )  # fmt: skip
        groups[group] += took
    pipeline = stamp[("PIPELINE_SUCCESS", None)] - stamp[("PIPELINE_START", None)]
    parts = [f"{name} {seconds:.1f} s" for name, seconds in groups.items()]
    return f"in the pipeline {pipeline:.1f} s: {', '.join(parts)}; outside it {whole - pipeline:.1f} s"


def last_line(log: Path, marker: str) -> str:
    found = [line for line in log.read_text().splitlines() if marker in line]
    return found[-1].split(marker, 1)[-1].strip() if found else ""


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def write_report(args, results, slope, one, full, nightly, ingest_new, warehouse_size, growth, month) -> None:
    _rows, floor5, peer5, ingest5 = slope[-1]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m benchmarks.run --rows {args.rows} "
        f"--histories {args.histories} --history {args.history}` on {machine()}.",
        "",
        "Every figure is the wall time of a whole process (interpreter and library start-up included), as a user "
        "waits for it; the work alone, where a step reports it, is in the notes.",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    ratio = ingest5.wall / floor5.wall
    lines.append(
        f"| ingest of a {slope[-1][0]:,}-row month within {INGEST_VS_FLOOR}x of the floor | {ingest5.wall:.1f} s vs "
        f"floor {floor5.wall:.1f} s = {ratio:.2f}x | {verdict(ratio <= INGEST_VS_FLOOR)} |"
    )
    speedup = peer5.wall / ingest5.wall
    lines.append(
        f"| ingest at least {INGEST_VS_PEER:.0f}x faster than pandas `read_csv(dtype=str)` + `to_parquet` | "
        f"{peer5.wall:.1f} s / {ingest5.wall:.1f} s = {speedup:.2f}x | {verdict(speedup >= INGEST_VS_PEER)} |"
    )
    # the pipeline's steps: the pandas peer is not one of them
    peak = max([m.peak_rss for m in results] + [m.peak_rss for _, floor, _, ingest in slope for m in (floor, ingest)])
    lines.append(
        f"| peak memory of every pipeline step under 1 GB | {peak / GB:.2f} GiB | "
        f"{verdict(peak < MEMORY_LIMIT_BYTES)} |"
    )
    share = one.wall / full.wall
    lines.append(
        f"| one new month under {NEW_MONTH_VS_REBUILD:.0%} of a full rebuild ({args.history} + 1 months) | "
        f"{one.wall:.1f} s vs {full.wall:.1f} s = {share:.0%} | {verdict(share < NEW_MONTH_VS_REBUILD)} |"
    )
    nightly_share = nightly.wall / ingest_new.wall
    lines.append(
        f"| nothing-changed nightly under {NIGHTLY_VS_INGEST:.0%} of one month's ingest | {nightly.wall:.2f} s vs "
        f"{ingest_new.wall:.1f} s = {nightly_share:.1%} | {verdict(nightly_share < NIGHTLY_VS_INGEST)} |"
    )
    lines += ["", "| step | whole process s | work s | peak RSS (MiB) | notes |", "|---|---:|---:|---:|---|"]
    for size, floor, peer, ingest in slope:
        for name, m in (("floor", floor), ("pandas peer", peer), ("ingest", ingest)):
            lines.append(
                f"| {name}, {size:,} rows | {m.wall:.1f} | {m.seconds:.1f} | {m.peak_rss / 2**20:.0f} | {m.detail} |"
            )
    for m in results:
        lines.append(f"| {m.step} | {m.wall:.1f} | {m.seconds:.1f} | {m.peak_rss / 2**20:.0f} | {m.detail} |")
    lines += [
        "",
        f"Published warehouse after {dashed(month)}: {warehouse_size / 2**20:.0f} MiB. The full log is "
        "`benchmarks/work/benchmark.log`.",
        "",
        "How ingest grows (whole processes):",
        "",
        "| rows | floor s | pandas peer s | ingest s | ingest / floor | peer / ingest | ingest peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, floor, peer, ingest in slope:
        lines.append(
            f"| {size:,} | {floor.wall:.1f} | {peer.wall:.1f} | {ingest.wall:.1f} | {ingest.wall / floor.wall:.2f} | "
            f"{peer.wall / ingest.wall:.2f} | {ingest.peak_rss / 2**20:.0f} |"
        )
    lines += [
        "",
        "How a new month's cost grows with the history (build + checks + publication, whole process):",
        "",
        "| months held | new month s | peak RSS (MiB) |",
        "|---:|---:|---:|",
    ]
    for history, m in growth:
        lines.append(f"| {history} | {m.wall:.1f} | {m.peak_rss / 2**20:.0f} |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
