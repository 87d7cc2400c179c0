"""mirror-trade: run the pipeline, the offline demo, or the sample server."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.lib.config import SAMPLE_DATA_DIR, Settings, load_settings

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
SAMPLE_RANGE = ("2021-01", "2022-06")
SAMPLE_TRANSIT_COUNTRIES = ("AM", "GE", "KG", "KZ", "UZ")


class RunLocked(Exception):
    pass


def _month(value: str) -> str:
    match = MONTH_RE.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month as YYYY-MM")
    if value < "2019-01":
        raise argparse.ArgumentTypeError(f"{value}: Comext partitions start at 2019-01")
    return value


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One pipeline run per MIRROR_TRADE_HOME at a time; a second one exits cleanly."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLocked(f"another mirror-trade run holds {settings.home / 'run.lock'}; not starting") from exc
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def _dagster_instance(settings: Settings):
    from dagster import DagsterInstance

    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text((Path(__file__).parent / "dagster.yaml").read_text())
    return DagsterInstance.get()


ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
DBT_ERROR_LINE = re.compile(r"(FAIL \d|ERROR|Failure in|Error in|Database Error|Runtime Error|Compilation Error)")


def _error_summary(error) -> str:
    """The lines of a step's error that say what went wrong (dbt's own failure lines for a dbt step)."""
    if error is None:
        return "unknown error"
    while error.cause is not None and "DagsterExecutionStepExecutionError" in error.cls_name:
        error = error.cause
    text = ANSI_RE.sub("", error.message)
    if "Errors parsed from dbt logs:" in text:
        tail = text.split("Errors parsed from dbt logs:", 1)[1]
        lines = [line.strip() for line in tail.splitlines() if DBT_ERROR_LINE.search(line)]
        return "dbt: " + " | ".join(dict.fromkeys(lines[:6]))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else error.cls_name


def _explain_failure(result) -> str:
    """One paragraph: which step or check failed, on which table and months, and why."""
    from dagster import DagsterEventType

    reasons = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                detail = evaluation.description or ""
                meta = evaluation.metadata.get("months_checked")
                months = f" (months {meta.value})" if meta and meta.value else ""
                reasons.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}{months} "
                    f"failed [{evaluation.severity.value}]{': ' + detail if detail else ''}"
                )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            reasons.append(f"step {event.step_key} failed: {_error_summary(error)}")
    return " ".join(reasons) if reasons else "the run failed without a recorded reason; see the Dagster logs"


def run_pipeline(start: str, end: str, settings: Settings | None = None) -> int:
    settings = settings or load_settings()
    if end < start:
        print(f"mirror-trade run: --end {end} is before --start {start}", file=sys.stderr)
        return 2
    from orchestration.lib.dbt_manifest import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs
    from orchestration.defs.schedules import NIGHTLY_JOB, range_tags

    try:
        with run_lock(settings):
            instance = _dagster_instance(settings)
            print(f"mirror-trade: running {start} .. {end} with MIRROR_TRADE_HOME={settings.home}")
            print(f"mirror-trade: Comext source {settings.comext_url}")
            result = defs.resolve_job_def(NIGHTLY_JOB).execute_in_process(
                instance=instance,
                tags=range_tags(f"{start}-01", f"{end}-01"),
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
    except RunLocked as exc:
        print(f"mirror-trade: {exc}", file=sys.stderr)
        return 3
    if not result.success:
        paragraph = (
            f"mirror-trade run {start}..{end} FAILED (run {result.run_id}); nothing was published and the "
            f"previous warehouse at {settings.published_warehouse} is unchanged. {_explain_failure(result)}"
        )
        _report_failure(paragraph, result.run_id, "failed")
        return 1
    from orchestration.defs.publish.warehouse import PUBLISHED_KEY

    published = [m for m in result.get_asset_materialization_events() if m.asset_key == PUBLISHED_KEY]
    message = published[-1].materialization.metadata["message"].value if published else "done"
    unavailable = _unavailable_sources(result)
    if unavailable:
        paragraph = (
            f"mirror-trade run {start}..{end} PARTLY FAILED (run {result.run_id}): {message}; but "
            + "; ".join(unavailable)
            + ". Those months keep their previous data (marts.source_coverage shows the failed attempt)."
        )
        _report_failure(paragraph, result.run_id, "partial")
        return 1
    print(f"\nmirror-trade run {start}..{end} succeeded (run {result.run_id}): {message}")
    return 0


def _unavailable_sources(result) -> list[str]:
    """Source months that could not be fetched or failed their checks (contained: quarantined or kept at their
    previous data while the run went on)."""
    from dagster import DagsterEventType

    from orchestration.defs.ingest.availability import CHECK, CONTAINED_CHECKS

    out = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.check_name in CONTAINED_CHECKS and not evaluation.passed:
                asset = evaluation.asset_key.to_user_string()
                if evaluation.check_name == CHECK:
                    out.append(f"{asset} unavailable: {evaluation.description}")
                else:
                    out.append(
                        f"check {evaluation.check_name} on {asset} failed, month quarantined: {evaluation.description}"
                    )
    return out


def _report_failure(paragraph: str, run_id: str, status: str) -> None:
    from orchestration.lib.alerts import send_alert

    print("\n" + textwrap.fill(paragraph, width=110), file=sys.stderr)
    problem = send_alert(paragraph, {"run_id": run_id, "status": status})
    if problem:
        print(f"mirror-trade: {problem}", file=sys.stderr)


def run_nightly() -> int:
    """What the 02:00 schedule does, from the command line: detect releases, then run only what changed."""
    from orchestration.lib.releases import nightly_plan

    plan = nightly_plan()
    if not plan.months:
        print(f"mirror-trade nightly: {plan.summary()}; nothing published")
        return 0
    print(f"mirror-trade nightly: {plan.summary()}")
    first, last = plan.months[0], plan.months[-1]
    return run_pipeline(f"{first[:4]}-{first[4:]}", f"{last[:4]}-{last[4:]}")


def _eurostat_reachable(url: str) -> bool:
    import requests

    try:
        requests.head(url, timeout=5)
    except requests.RequestException:
        return False
    return True


def run_demo(start: str, end: str) -> int:
    from orchestration.lib.eurostat_server import EurostatFileServer

    settings = load_settings()
    if os.environ.get("MIRROR_TRADE_COMEXT_URL") or (
        os.environ.get("MIRROR_TRADE_DEMO_OFFLINE") != "1" and _eurostat_reachable(settings.comext_url)
    ):
        print(f"mirror-trade demo: using the live sources ({settings.comext_url}, {settings.comtrade_url})")
        return run_pipeline(start, end, settings)
    # The Comext sample covers exports to AM, BY, GE, KG, KZ, RU, UZ only: watch the transit countries among them.
    os.environ.setdefault("MIRROR_TRADE_COMTRADE_REPORTERS", ",".join(SAMPLE_TRANSIT_COUNTRIES))
    settings = load_settings()
    with (
        EurostatFileServer(SAMPLE_DATA_DIR / "comext") as eurostat,
        _synthetic_partner_servers(settings, start, end) as (comtrade, ecb),
    ):
        print(
            f"mirror-trade demo: no network to Eurostat; serving the bundled REAL Comext sample "
            f"({SAMPLE_RANGE[0]}..{SAMPLE_RANGE[1]}) at {eurostat.base_url}, and SYNTHETIC Comtrade and ECB data "
            f"(no real partner-side data ships with the project) at {comtrade.base_url} and {ecb.base_url}"
        )
        os.environ.update(
            {
                "MIRROR_TRADE_COMEXT_URL": eurostat.base_url,
                "MIRROR_TRADE_COMTRADE_URL": comtrade.base_url,
                "MIRROR_TRADE_ECB_URL": ecb.base_url,
                "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
            }
        )
        os.environ.pop("COMTRADE_API_KEY", None)
        return run_pipeline(start, end, load_settings())


@contextlib.contextmanager
def _synthetic_partner_servers(settings: Settings, start: str, end: str) -> Iterator[tuple]:
    from orchestration.lib import reference
    from orchestration.lib.comtrade_ingest import products
    from orchestration.lib.comtrade_server import ComtradeServer, synthetic_dataset
    from orchestration.lib.ecb_server import EcbServer, synthetic_rates

    periods = _months_between(start, end)
    rates = synthetic_rates(int(start[:4]), int(end[:4]))
    reporters = [reference.comtrade_m49(iso2) for iso2 in settings.comtrade_reporters]
    eu_usd = _sample_eu_exports_usd(settings, periods, rates)
    records, availability = synthetic_dataset(eu_usd, periods, reporters, list(products(settings, keyed=False)))
    with ComtradeServer(records, availability) as comtrade, EcbServer(rates) as ecb:
        yield comtrade, ecb


def _sample_eu_exports_usd(settings: Settings, periods: list[str], rates: dict[str, float]) -> dict:
    """What the bundled Comext sample says each member state exported to each watched country, per HS6, in USD:
    the shape the synthetic partner side imitates."""
    import tempfile

    import duckdb

    from orchestration.lib import comext, reference

    m49 = {iso2: reference.comtrade_m49(iso2) for iso2 in settings.comtrade_reporters}
    out: dict[tuple[str, int, int, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for period in periods:
            archive = SAMPLE_DATA_DIR / "comext" / comext.month_file_name(period)
            if not archive.exists():
                continue
            dat = comext.unpack_month(archive, period, Path(tmp), settings.max_unpacked_bytes)
            rows = duckdb.execute(
                """SELECT REPORTER, PARTNER, left(PRODUCT_NC, 6), sum(CAST(VALUE_EUR AS DECIMAL(18, 2)))
                   FROM read_csv(?, header = true, all_varchar = true)
                   WHERE FLOW = '2' AND PRODUCT_NC NOT LIKE '%X%'
                   GROUP BY ALL""",
                [str(dat)],
            ).fetchall()
            rate = rates[f"{period[:4]}-{period[4:]}"]
            for reporter, partner, hs6, eur in rows:
                if partner in m49:
                    out[(period, m49[partner], reference.comtrade_m49(reporter), hs6)] = float(eur) * rate
    return out


def _months_between(start: str, end: str) -> list[str]:
    """'YYYY-MM' bounds -> ['YYYYMM', ...] inclusive."""
    year, month = int(start[:4]), int(start[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def serve_sample(port: int) -> int:
    from orchestration.lib.eurostat_server import EurostatFileServer

    with EurostatFileServer(SAMPLE_DATA_DIR / "comext", port=port) as server:
        print(f"serving the Comext sample at {server.base_url} (Ctrl-C to stop)")
        print(f"  export MIRROR_TRADE_COMEXT_URL={server.base_url}")
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()
    return 0


def make_report(period: str | None, out: Path | None, settings: Settings | None = None) -> int:
    from datetime import date

    from orchestration.lib.report import build_report

    settings = settings or load_settings()
    if not settings.published_warehouse.exists():
        print(f"mirror-trade report: nothing published yet at {settings.published_warehouse}", file=sys.stderr)
        return 1
    month = date(int(period[:4]), int(period[5:]), 1) if period else None
    default = settings.published_dir / (f"report-{period}.html" if period else "report.html")
    path = build_report(settings.published_warehouse, out or default, month)
    print(f"mirror-trade report: wrote {path}")
    return 0


def run_sql(query: str, csv: Path | None, parquet: Path | None, max_rows: int) -> int:
    import duckdb

    settings = load_settings()
    if not settings.published_warehouse.exists():
        print(f"mirror-trade sql: nothing published yet at {settings.published_warehouse}", file=sys.stderr)
        return 1
    # read_only: analysts can never change the publication; a publication under way replaces the file by rename,
    # so this connection keeps reading the version it opened.
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        try:
            relation = con.sql(query)
            if relation is None:
                print("mirror-trade sql: the statement returned no rows", file=sys.stderr)
                return 1
            for target, fmt in ((csv, "csv, HEADER"), (parquet, "parquet")):
                if target:
                    con.execute(f"COPY ({query.rstrip().rstrip(';')}) TO '{target}' (FORMAT {fmt})")
                    print(f"mirror-trade sql: wrote {target}")
            if not (csv or parquet):
                relation.show(max_rows=max_rows, max_width=200)
        except duckdb.Error as exc:
            print(f"mirror-trade sql: {exc}", file=sys.stderr)
            return 1
    return 0


def serve_docs(port: int, serve: bool) -> int:
    import shutil
    import subprocess

    from orchestration.lib.config import DBT_PROJECT_DIR
    from orchestration.lib.dbt_manifest import DBT_EXECUTABLE

    settings = load_settings()
    target = settings.home / "docs"
    target.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MIRROR_TRADE_HOME": str(settings.home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    if settings.published_warehouse.exists():
        # dbt opens its database read-write: give it a copy, never the analysts' file.
        copy = target / "catalog-source.duckdb"
        shutil.copyfile(settings.published_warehouse, copy)
        env["MIRROR_TRADE_BUILD_DB"] = str(copy)
    common = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
    ]
    subprocess.run([DBT_EXECUTABLE, "docs", "generate", *common], env=env, check=True, cwd=DBT_PROJECT_DIR)
    print(f"mirror-trade docs: data dictionary in {target / 'index.html'}")
    if serve:
        print(f"mirror-trade docs: serving at http://127.0.0.1:{port} (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(
                [DBT_EXECUTABLE, "docs", "serve", *common, "--port", str(port), "--host", "127.0.0.1", "--no-browser"],
                env=env,
                check=False,
                cwd=DBT_PROJECT_DIR,
            )
    return 0


def _month_or_none(value: str) -> str:
    match = MONTH_RE.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month as YYYY-MM")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mirror-trade",
        description="Mirror trade statistics: Comext -> checked, published DuckDB warehouse.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  mirror-trade run --start 2022-01 --end 2022-06",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="materialise months through the Dagster asset graph, check, and publish",
        epilog="example:\n  mirror-trade run --start 2022-01 --end 2022-06",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--start", type=_month, required=True, help="first month, YYYY-MM")
    run.add_argument("--end", type=_month, required=True, help="last month, YYYY-MM (inclusive)")
    demo = sub.add_parser(
        "demo",
        help="run the pipeline on the live source, or offline on the bundled real sample over local HTTP",
        epilog="example:\n  mirror-trade demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--start", type=_month, default=SAMPLE_RANGE[0])
    demo.add_argument("--end", type=_month, default=SAMPLE_RANGE[1])
    serve = sub.add_parser(
        "serve-sample",
        help="serve the bundled Comext sample over HTTP in Eurostat's URL layout",
        epilog="example:\n  mirror-trade serve-sample --port 8765",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=int, default=8765)
    sub.add_parser(
        "nightly",
        help="find new and revised releases (no data downloaded) and run only the months that changed",
        epilog="example:\n  mirror-trade nightly",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report = sub.add_parser(
        "report",
        help="write the self-contained HTML report of the published warehouse",
        epilog="examples:\n  mirror-trade report\n  mirror-trade report --period 2022-05 --out may.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--period", type=_month_or_none, help="month of the signals table, YYYY-MM (default: newest)")
    report.add_argument("--out", type=Path, help="where to write (default: next to the publication)")
    sql = sub.add_parser(
        "sql",
        help="query the published warehouse read-only",
        epilog=(
            "examples:\n"
            '  mirror-trade sql "SELECT * FROM marts.fct_circumvention_signals WHERE rank_in_month <= 10"\n'
            '  mirror-trade sql "SELECT * FROM marts.fct_mirror_flows" --csv mirror.csv'
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sql.add_argument("query", help="one SQL statement")
    sql.add_argument("--csv", type=Path, help="write the result to this CSV file instead of printing it")
    sql.add_argument("--parquet", type=Path, help="write the result to this parquet file instead of printing it")
    sql.add_argument("--max-rows", type=int, default=40, help="rows to print (default 40)")
    docs = sub.add_parser(
        "docs",
        help="build the data dictionary (dbt docs) and serve it locally",
        epilog="examples:\n  mirror-trade docs\n  mirror-trade docs --no-serve",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    docs.add_argument("--port", type=int, default=8580)
    docs.add_argument("--no-serve", action="store_true", help="only build it")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_pipeline(args.start, args.end)
    if args.command == "demo":
        return run_demo(args.start, args.end)
    if args.command == "report":
        return make_report(args.period, args.out)
    if args.command == "nightly":
        from orchestration.lib.dbt_manifest import ensure_manifest

        ensure_manifest()
        return run_nightly()
    if args.command == "sql":
        return run_sql(args.query, args.csv, args.parquet, args.max_rows)
    if args.command == "docs":
        from orchestration.lib.dbt_manifest import ensure_manifest

        ensure_manifest()
        return serve_docs(args.port, serve=not args.no_serve)
    return serve_sample(args.port)


if __name__ == "__main__":
    sys.exit(main())
