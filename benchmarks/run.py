"""The performance benchmark at real Comext scale: one run, one machine, one table (docs/benchmarks.md).

    python -m benchmarks.run                      # 24 + 1 months of 5 million rows (~25 minutes, ~9 GB)
    python -m benchmarks.run --rows 200000 --history 3 --out /tmp/bench.md     # a quick rehearsal

What it does, all against local HTTP servers that speak the sources' formats:
1. generates the months with benchmarks/generate.py (cached in benchmarks/work/archives-<rows>/; the measured
   month is packed like Eurostat's files, LZMA preset 6; the history months at preset 1, which only the setup
   reads);
2. the floor: unpacking the measured month's archive, plus one DuckDB count(*) over the unpacked CSV;
3. the pipeline's ingest of that month (download, raw vintage, unpack, typed parquet, checks, revisions), at 1,
   2.5 and 5 million rows, so that the slope shows;
4. builds a warehouse of `--history` months with `mirror-trade run` (setup, timed for information), in two runs
   so that the warehouse is in its steady state (a previous publication kept as the next build's base);
5. one new month's dbt build + checks + publication (`mirror-trade run` for that month, its raw month already
   ingested), against a full rebuild of all months into an empty warehouse from the same lake;
6. a nightly run when nothing changed (`mirror-trade nightly`).
Every step runs in its own process under `/usr/bin/time -v`, which gives its peak resident memory.
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
# Targets of issue #6, on a 2-core machine.
INGEST_VS_FLOOR = 1.5
MEMORY_LIMIT_BYTES = 1.5e9  # 1.5 GB
NEW_MONTH_VS_REBUILD = 0.25
NIGHTLY_VS_INGEST = 0.05


@dataclass
class Measure:
    step: str
    seconds: float
    peak_rss: int  # bytes
    detail: str = ""


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
    return Measure(step, seconds, rss), payload


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
    parser.add_argument("--history", type=int, default=24, help="months the warehouse holds before the new one")
    parser.add_argument("--new-month", default="202609", help="YYYYMM of the measured month")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "benchmark.log"
    log.write_text(f"benchmark started {datetime.now(UTC).isoformat()}\n")
    new = args.new_month
    history = months_back(new, args.history + 1)[:-1]
    sizes = sorted({max(1, args.rows // 5), max(1, args.rows // 2), args.rows})
    archives = {rows: WORK / f"archives-{rows}" for rows in sizes}
    print(f"1. archives: {len(history)} history months + {new} at {args.rows:,} rows; {new} also at {sizes[:-1]}")
    jobs = [(new, rows, archives[rows], 6) for rows in sizes]
    jobs += [(period, args.rows, archives[args.rows], 1) for period in history]
    prepare_archives(jobs)

    from orchestration.demo.eurostat import EurostatFileServer
    from orchestration.lib.config import load_settings

    results: list[Measure] = []
    slope: list[tuple[int, Measure, Measure]] = []
    base_env = {
        **os.environ,
        "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
        "MIRROR_TRADE_DEMO_OFFLINE": "1",
    }
    for name in ("COMTRADE_API_KEY", "MIRROR_TRADE_ALERT_WEBHOOK", "DAGSTER_HOME"):
        base_env.pop(name, None)

    # 2-3. floor and ingest, per size; each size in a home of its own, so that it is that month's first vintage.
    for rows in sizes:
        home = WORK / f"home-ingest-{rows}"
        shutil.rmtree(home, ignore_errors=True)
        with EurostatFileServer(archives[rows]) as eurostat:
            env = {**base_env, "MIRROR_TRADE_HOME": str(home), "MIRROR_TRADE_COMEXT_URL": eurostat.base_url}
            archive = archives[rows] / month_file_name(new)
            floor, info = timed(
                f"floor {rows:,}", [sys.executable, "-m", "benchmarks.steps", "floor", str(archive)], env, log
            )
            floor.detail = (
                f"unpack {info['unpack_seconds']:.1f} s + count(*) {info['seconds'] - info['unpack_seconds']:.1f} s"
            )
            ingest, info = timed(
                f"ingest {rows:,}", [sys.executable, "-m", "benchmarks.steps", "ingest", new], env, log
            )
            ingest.detail = f"{info['check']}; GX start-up {info['gx_startup_seconds']:.1f} s not counted"
        slope.append((rows, floor, ingest))
        print(f"2-3. {rows:,} rows: floor {floor.seconds:.1f} s, ingest {ingest.seconds:.1f} s", flush=True)
        shutil.rmtree(home, ignore_errors=True)

    # 4-6. the warehouse: history, one new month, full rebuild, nightly.
    home = WORK / "home"
    rebuild_home = WORK / "home-rebuild"
    for path in (home, rebuild_home):
        shutil.rmtree(path, ignore_errors=True)
    os.environ["MIRROR_TRADE_HOME"] = str(home)
    settings = load_settings()
    with (
        EurostatFileServer(archives[args.rows]) as eurostat,
        partner_servers(settings, [*history, new]) as (comtrade, ecb),
    ):
        env = {
            **base_env,
            # The history's first year is the baseline, so that the research measures (matched baselines,
            # substitution, counterfactual, unit values, the ranking) are built for every later month.
            "MIRROR_TRADE_BASELINE_START": f"{dashed(history[0])}-01",
            "MIRROR_TRADE_BASELINE_END": f"{dashed(history[11])}-01",
            "MIRROR_TRADE_HOME": str(home),
            "MIRROR_TRADE_COMEXT_URL": eurostat.base_url,
            "MIRROR_TRADE_COMTRADE_URL": comtrade.base_url,
            "MIRROR_TRADE_ECB_URL": ecb.base_url,
        }
        # The new month is not in the listing while the history is built.
        held_back = archives[args.rows] / month_file_name(new)
        aside = WORK / f"aside-{held_back.name}"
        os.replace(held_back, aside)
        try:
            setup1, _ = timed(
                "setup", [MIRROR_TRADE, "run", "--start", dashed(history[0]), "--end", dashed(history[-2])], env, log
            )
            setup2, _ = timed(
                "setup", [MIRROR_TRADE, "run", "--start", dashed(history[-1]), "--end", dashed(history[-1])], env, log
            )
        finally:
            os.replace(aside, held_back)
        print(f"4. warehouse of {len(history)} months built in {setup1.seconds + setup2.seconds:.0f} s", flush=True)
        results.append(
            Measure(
                f"setup: {len(history)} months ingested and built (two runs)",
                setup1.seconds + setup2.seconds,
                max(setup1.peak_rss, setup2.peak_rss),
            )
        )

        ingest_new, info = timed("ingest", [sys.executable, "-m", "benchmarks.steps", "ingest", new], env, log)
        ingest_new.step = f"ingest of {dashed(new)} with {len(history)} months held"
        ingest_new.detail = f"{info['check']}; GX start-up {info['gx_startup_seconds']:.1f} s not counted"
        results.append(ingest_new)
        # --verbose: the Dagster log's "build file" line says how the build started (build_start).
        one, _ = timed(
            "new month", [MIRROR_TRADE, "run", "--verbose", "--start", dashed(new), "--end", dashed(new)], env, log
        )
        one.step = f"new month: dbt build + checks + publication of {dashed(new)} into {len(history)} months"
        one.detail = build_start(log)
        results.append(one)

        nightly, _ = timed("nightly", [MIRROR_TRADE, "nightly"], env, log)
        nightly.step = "nightly run, nothing changed"
        nightly.detail = last_line(log, "mirror-trade nightly:")
        results.append(nightly)

        # The full rebuild: an empty warehouse over the same raw vintages and lake (hard links, nothing re-fetched).
        rebuild_home.mkdir(parents=True)
        for sub in ("raw", "parquet"):
            subprocess.run(["cp", "-al", str(home / sub), str(rebuild_home / sub)], check=True)
        rebuild_env = {**env, "MIRROR_TRADE_HOME": str(rebuild_home)}
        full, _ = timed(
            "rebuild", [MIRROR_TRADE, "run", "--start", dashed(history[0]), "--end", dashed(new)], rebuild_env, log
        )
        full.step = f"full rebuild: dbt build + checks + publication of {len(history) + 1} months"
        results.append(full)
        warehouse_size = (home / "published" / "warehouse.duckdb").stat().st_size

    write_report(args, results, slope, one, full, nightly, ingest_new, warehouse_size)


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


def last_line(log: Path, marker: str) -> str:
    found = [line for line in log.read_text().splitlines() if marker in line]
    return found[-1].split(marker, 1)[-1].strip() if found else ""


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def write_report(args, results, slope, one, full, nightly, ingest_new, warehouse_size) -> None:
    _rows, floor5, ingest5 = slope[-1]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m benchmarks.run --rows {args.rows} "
        f"--history {args.history}` on {machine()}.",
        "",
        "Synthetic months from `benchmarks/generate.py` in the exact v2 layout (27 reporters, the 265 partner codes "
        "of the reference list incl. Q* codes, about 9,500 CN8 codes incl. X codes, both flows, all trade types and "
        "procedures, skewed); served over local HTTP. Each step ran in its own process under `/usr/bin/time -v`.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    ratio = ingest5.seconds / floor5.seconds
    lines.append(
        f"| ingest of one month within {INGEST_VS_FLOOR}x of the floor | {ingest5.seconds:.1f} s vs floor "
        f"{floor5.seconds:.1f} s = {ratio:.2f}x | {verdict(ratio <= INGEST_VS_FLOOR)} |"
    )
    peak = max([m.peak_rss for m in results] + [m.peak_rss for _, f, i in slope for m in (f, i)])
    lines.append(
        f"| peak memory of any step under 1.5 GB | {peak / GB:.2f} GiB | {verdict(peak < MEMORY_LIMIT_BYTES)} |"
    )
    share = one.seconds / full.seconds
    lines.append(
        f"| one new month under {NEW_MONTH_VS_REBUILD:.0%} of a full rebuild | {one.seconds:.1f} s vs "
        f"{full.seconds:.1f} s = {share:.0%} | {verdict(share < NEW_MONTH_VS_REBUILD)} |"
    )
    nightly_share = nightly.seconds / ingest_new.seconds
    lines.append(
        f"| nothing-changed nightly under {NIGHTLY_VS_INGEST:.0%} of one month's ingest | {nightly.seconds:.2f} s vs "
        f"{ingest_new.seconds:.1f} s = {nightly_share:.1%} | {verdict(nightly_share < NIGHTLY_VS_INGEST)} |"
    )
    lines += ["", "## Steps", "", "| step | seconds | peak RSS (MiB) | notes |", "|---|---:|---:|---|"]
    for size, floor, ingest in slope:
        lines.append(f"| floor, {size:,} rows | {floor.seconds:.1f} | {floor.peak_rss / 2**20:.0f} | {floor.detail} |")
        lines.append(
            f"| ingest, {size:,} rows | {ingest.seconds:.1f} | {ingest.peak_rss / 2**20:.0f} | {ingest.detail} |"
        )
    for m in results:
        lines.append(f"| {m.step} | {m.seconds:.1f} | {m.peak_rss / 2**20:.0f} | {m.detail} |")
    lines += [
        "",
        f"Published warehouse after the new month: {warehouse_size / 2**20:.0f} MiB. Ingest seconds are the work "
        "itself (interpreter start excluded); `mirror-trade` steps are wall time of the whole command, Dagster "
        "start-up included. The full log is `benchmarks/work/benchmark.log`.",
        "",
        "## How ingest grows",
        "",
        "| rows | floor s | ingest s | ingest / floor | ingest peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, floor, ingest in slope:
        lines.append(
            f"| {size:,} | {floor.seconds:.1f} | {ingest.seconds:.1f} | {ingest.seconds / floor.seconds:.2f} | "
            f"{ingest.peak_rss / 2**20:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
