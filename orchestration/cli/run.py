"""`run`, `demo` and `nightly`: the pipeline through the Dagster asset graph, under one lock per home.

Nothing here imports Dagster or dbt before the run lock is held: a refused second run answers at once.
"""

import contextlib
import fcntl
import logging
import os
import re
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestration.cli.common import LOCKED, MONTH, USAGE, CliError, say, tell, tell_failure
from orchestration.lib.config import SAMPLE_DATA_DIR, Settings, load_settings
from orchestration.lib.periods import months_between

SAMPLE_TRANSIT_COUNTRIES = ("AM", "GE", "KG", "KZ", "UZ")
SAMPLE_MONTH_FILE = re.compile(r"^full_v2_(\d{4})(\d{2})\.7z$")
CHECK_SOURCES = (
    "Check the network connection and the source URLs (MIRROR_TRADE_COMEXT_URL, MIRROR_TRADE_COMTRADE_URL, "
    "MIRROR_TRADE_ECB_URL)"
)
OFFLINE = "`mirror-trade demo` works without network"

Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show everything: dbt's START/PASS lines and the Dagster log.")
]


class RunLocked(Exception):
    pass


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One pipeline run per MIRROR_TRADE_HOME at a time; a second one is refused (RunLocked) and names the holder."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "run.lock"
    # "a+", not "w": opening must not erase the pid of the run that holds the lock.
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip()
            raise RunLocked(
                f"another mirror-trade run holds {path}{f' (pid {holder})' if holder else ''}; not starting. "
                "Wait for it to finish, or give this run its own MIRROR_TRADE_HOME."
            ) from exc
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield


# A command-line run writes its output to the terminal itself, not through Dagster's compute-log capture: that
# capture points the process's stdout and stderr at files and copies them back to the terminal with `tail -F`,
# which may deliver late, or nothing at all (dagster-io/dagster#23336), so `--verbose` could lose dbt's lines.
# The run's structured log is still in the instance's event log, and dbt's own log in dbt_runs/run-<run id>/.
CLI_COMPUTE_LOGS = {
    "compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}
}


def _dagster_instance(settings: Settings) -> Any:
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text((Path(__file__).parents[1] / "dagster.yaml").read_text())
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=CLI_COMPUTE_LOGS))


class _ProgressHandler(logging.Handler):
    """Progress lines on stdout, written around any progress bar on the terminal instead of through it."""

    def __init__(self, stream: Any):
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        tqdm.write(f"  {record.getMessage()}", file=self.stream)
        self.stream.flush()


@contextmanager
def _pipeline_output(verbose: bool) -> Iterator[str]:
    """The output of a run: by default one progress line per stage and month, with dbt's echo of its log and the
    Dagster console log held back; with --verbose, all of those. Yields the Dagster console's log level."""
    if not sys.stdout.isatty():
        os.environ.setdefault("DBT_USE_COLORS", "false")  # no ANSI codes in a log file or a pipe
    if verbose:
        yield "INFO"
        return
    from orchestration.lib.progress import PROGRESS

    handler = _ProgressHandler(sys.stdout)
    PROGRESS.addHandler(handler)
    try:
        with (
            warnings.catch_warnings(),
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),  # dagster-dbt echoes every dbt log line to stdout
        ):
            warnings.simplefilter("ignore")  # Dagster's beta-API warnings are for developers, not for this output
            yield "CRITICAL"
    finally:
        PROGRESS.removeHandler(handler)


def run_pipeline(
    start: str, end: str, settings: Settings | None = None, command: str = "run", verbose: bool = False
) -> int:
    """Materialise the months start..end (YYYY-MM) through the asset graph, check and publish; the exit code."""
    settings = settings or load_settings()
    if end < start:
        raise CliError(f"--end {end} is before --start {start}", USAGE)
    try:
        with run_lock(settings):
            return _run_locked(start, end, settings, command, verbose)
    except RunLocked as exc:
        raise CliError(str(exc), LOCKED) from None


def _run_locked(start: str, end: str, settings: Settings, command: str, verbose: bool) -> int:
    say(command, f"running {start} .. {end} with MIRROR_TRADE_HOME={settings.home}")
    say(command, f"Comext source {settings.comext_url}")
    with _pipeline_output(verbose) as dagster_log_level:
        from orchestration.definitions import defs
        from orchestration.defs.schedules import NIGHTLY_JOB, range_tags

        instance = _dagster_instance(settings)
        result = defs.resolve_job_def(NIGHTLY_JOB).execute_in_process(
            instance=instance,
            tags=range_tags(f"{start}-01", f"{end}-01"),
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": dagster_log_level}}}},
        )
    return _conclude(result, start, end, settings, command)


def _conclude(result: Any, start: str, end: str, settings: Settings, command: str) -> int:
    """The run's outcome: a success line on stdout, or one paragraph on stderr (and the alert) and exit code 1."""
    from orchestration.defs.publish.warehouse import PUBLISHED_KEY

    published = [m for m in result.get_asset_materialization_events() if m.asset_key == PUBLISHED_KEY]
    metadata = published[-1].materialization.metadata if published else {}
    message = metadata["message"].value if "message" in metadata else None
    unavailable, every_source_failed = _unavailable_sources(result, months_between(start, end))
    quarantined = _quarantined_months(result)
    if result.success and not unavailable and not quarantined:
        print(f"\nmirror-trade {command} {start}..{end} succeeded (run {result.run_id}): {message or 'done'}")
        return 0
    if "published" in metadata and metadata["published"].value:
        outcome = f"{message}; the months that failed keep their previous data (marts.source_coverage shows them)"
    elif settings.published_warehouse.exists():
        outcome = f"nothing was published; the warehouse at {settings.published_warehouse} is unchanged"
    else:
        outcome = "nothing was published (there is no published warehouse yet)"
    failed = not result.success or every_source_failed
    reasons = [*unavailable, *quarantined]
    if every_source_failed:
        # With no source at all, the later steps had nothing to build: their own errors would only repeat that.
        steps = _failed_steps(result)
        if steps:
            reasons.append(f"so step{'s' if len(steps) > 1 else ''} {', '.join(steps)} failed too")
    else:
        reasons += _blocking_failures(result)
    hints = []
    if unavailable:
        hints.append(f"{CHECK_SOURCES}, then run the same months again; {OFFLINE}.")
    if quarantined:
        hints.append(f"The rejected files are kept under {settings.quarantine_dir}; a new release is checked again.")
    if not result.success:
        dbt_log = settings.dbt_run_dir(result.run_id) / "dbt.log"
        hints.append(
            "The full log: run it again with --verbose"
            + (f"; dbt's own log of this run is {dbt_log}." if dbt_log.exists() else ".")
        )
    status = "FAILED" if failed else "PARTLY FAILED"
    headline = "no source could be fetched" if every_source_failed else outcome
    paragraph = (
        f"mirror-trade {command} {start}..{end} {status} (run {result.run_id}): {headline}. "
        + ("" if headline == outcome else f"{outcome[0].upper()}{outcome[1:]}. ")
        + "; ".join(reasons)
        + ". "
        + " ".join(hints)
    )
    print(file=sys.stderr)
    tell(paragraph)
    from orchestration.lib.alerts import send_alert

    problem = send_alert(paragraph, {"run_id": result.run_id, "status": "failed" if failed else "partial"})
    if problem:
        tell_failure(command, problem)
    return 1


def _check_evaluations(result: Any) -> Iterator[Any]:
    from dagster import DagsterEventType

    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            yield event.event_specific_data


def _unavailable_sources(result: Any, periods: list[str]) -> tuple[list[str], bool]:
    """One line per source and distinct error, naming the months that could not be fetched (a month keeps its
    previous data); and whether every source failed for every month of the run."""
    from orchestration.defs.ingest.availability import CHECK

    sources = {key for key in result.job_def.asset_layer.asset_graph.asset_check_keys if key.name == CHECK}
    lines, fully_failed = [], 0
    for evaluation in _check_evaluations(result):
        if evaluation.check_name != CHECK or evaluation.passed:
            continue
        meta = evaluation.metadata.get("unavailable")
        months: dict[str, str] = dict(meta.value) if meta else {"?": evaluation.description or "unknown error"}
        fully_failed += set(periods) <= set(months)
        lines += _collapsed(evaluation.asset_key.to_user_string(), months)
    return lines, bool(sources) and fully_failed == len(sources)


def _collapsed(asset: str, months: dict[str, str]) -> list[str]:
    """Months that failed the same way in one line with their count: the same error, or the same but for the
    month it names."""
    shared = defaultdict(int)
    for reason in months.values():
        shared[reason] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for period, reason in sorted(months.items()):
        generic = reason.replace(period, "").replace(f"{period[:4]}-{period[4:]}", "")
        groups[reason if shared[reason] > 1 else generic].append(period)
    lines = []
    for periods in groups.values():
        first = periods[0]
        if len(periods) == 1:
            lines.append(f"{asset} unavailable: {first}: {months[first]}")
        else:
            lines.append(
                f"{asset} unavailable for {len(periods)} months ({', '.join(periods)}), all failing the same way, "
                f"e.g. {first}: {months[first]}"
            )
    return lines


def _quarantined_months(result: Any) -> list[str]:
    from orchestration.defs.ingest.availability import CHECK, CONTAINED_CHECKS

    return [
        f"check {e.check_name} on {e.asset_key.to_user_string()} failed, month quarantined: {e.description}"
        for e in _check_evaluations(result)
        if e.check_name in CONTAINED_CHECKS and e.check_name != CHECK and not e.passed
    ]


ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
DBT_ERROR_LINE = re.compile(r"(FAIL \d|ERROR|Failure in|Error in|Database Error|Runtime Error|Compilation Error)")


def _error_summary(error: Any) -> str:
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


def _failed_steps(result: Any) -> list[str]:
    from dagster import DagsterEventType

    return [e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]


def _blocking_failures(result: Any) -> list[str]:
    """Which blocking check or step failed, on which table and months, and why."""
    from dagster import DagsterEventType

    from orchestration.defs.ingest.availability import CONTAINED_CHECKS

    reasons = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.check_name not in CONTAINED_CHECKS:
                detail = evaluation.description or ""
                meta = evaluation.metadata.get("months_checked")
                months = f" (months {meta.value})" if meta and meta.value else ""
                reasons.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}{months} "
                    f"failed [{evaluation.severity.value}]{': ' + detail if detail else ''}"
                )
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            reasons.append(f"step {event.step_key} failed: {_error_summary(event.event_specific_data.error)}")
    if not reasons and not result.success:
        reasons.append("the run failed without a recorded reason")
    return reasons


def run_nightly(verbose: bool = False) -> int:
    """What the 02:00 schedule does, from the command line: detect releases, then run only what changed."""
    from orchestration.lib.errors import SourceError
    from orchestration.lib.releases import nightly_plan

    try:
        plan = nightly_plan()
    except SourceError as exc:
        raise CliError(
            f"the release check failed: {exc}. It asks each source's listing once (no data is downloaded); "
            f"nothing was run or published. {CHECK_SOURCES}, then run it again; {OFFLINE}."
        ) from None
    if not plan.months:
        say("nightly", f"{plan.summary()}; nothing published")
        return 0
    say("nightly", plan.summary())
    # Each range of consecutive changed months is its own run: the months between two changes are not rebuilt.
    codes = [
        run_pipeline(f"{first[:4]}-{first[4:]}", f"{last[:4]}-{last[4:]}", command="nightly", verbose=verbose)
        for first, last in plan.ranges()
    ]
    return max(codes)


def sample_months() -> list[str]:
    """The months (YYYY-MM) of the bundled Comext sample, from its files."""
    found = (SAMPLE_MONTH_FILE.match(p.name) for p in (SAMPLE_DATA_DIR / "comext").iterdir())
    return sorted(f"{m.group(1)}-{m.group(2)}" for m in found if m)


def _eurostat_reachable(url: str) -> bool:
    import requests

    try:
        requests.head(url, timeout=5)
    except requests.RequestException:
        return False
    return True


def run_demo(start: str | None, end: str | None, verbose: bool = False) -> int:
    """The pipeline on the live sources when Eurostat answers; otherwise offline on the bundled real Comext sample
    (and synthetic partner data), over local HTTP, for the sample's months only."""
    settings = load_settings()
    months = sample_months()
    start, end = start or months[0], end or months[-1]
    if os.environ.get("MIRROR_TRADE_COMEXT_URL") or (
        os.environ.get("MIRROR_TRADE_DEMO_OFFLINE") != "1" and _eurostat_reachable(settings.comext_url)
    ):
        say("demo", f"using the live sources ({settings.comext_url}, {settings.comtrade_url})")
        return run_pipeline(start, end, settings, command="demo", verbose=verbose)
    if end < start:
        raise CliError(f"--end {end} is before --start {start}", USAGE)
    outside = [f"{p[:4]}-{p[4:]}" for p in months_between(start, end) if f"{p[:4]}-{p[4:]}" not in months]
    if outside:
        raise CliError(
            f"offline, the demo serves the bundled Comext sample, which covers {months[0]}..{months[-1]} only; "
            f"{len(outside)} of the months asked for ({outside[0]}..{outside[-1]}) are outside it and would be "
            f"published empty. Choose --start and --end within {months[0]}..{months[-1]} (or neither, for the "
            "whole sample).",
            USAGE,
        )
    try:
        with run_lock(settings):
            return _run_offline_demo(start, end, verbose)
    except RunLocked as exc:
        raise CliError(str(exc), LOCKED) from None


def _run_offline_demo(start: str, end: str, verbose: bool) -> int:
    from orchestration.demo.offline import offline_sources

    # The Comext sample covers exports to AM, BY, GE, KG, KZ, RU, UZ only: watch the transit countries among them.
    os.environ.setdefault("MIRROR_TRADE_COMTRADE_REPORTERS", ",".join(SAMPLE_TRANSIT_COUNTRIES))
    settings = load_settings()
    months = sample_months()
    with offline_sources(settings, start, end) as (eurostat, comtrade, ecb):
        say(
            "demo",
            f"no network to Eurostat; serving the bundled REAL Comext sample ({months[0]}..{months[-1]}) at "
            f"{eurostat.base_url}, and SYNTHETIC Comtrade and ECB data (no real partner-side data ships with the "
            f"project) at {comtrade.base_url} and {ecb.base_url}",
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
        return _run_locked(start, end, load_settings(), "demo", verbose)


def register(app: typer.Typer) -> None:
    sample = sample_months()

    @app.command(
        "run",
        help="Materialise months through the Dagster asset graph, check them, and publish the warehouse.",
        epilog="example:  mirror-trade run --start 2022-01 --end 2022-06",
    )
    def run_command(
        start: Annotated[str, typer.Option(**MONTH, help="First month, YYYY-MM (2019-01 or later).")],
        end: Annotated[str, typer.Option(**MONTH, help="Last month, YYYY-MM, inclusive; at most the current month.")],
        verbose: Verbose = False,
    ) -> int:
        return run_pipeline(start, end, verbose=verbose)

    @app.command(
        "demo",
        help=(
            "Run the pipeline on the live sources, or, without network, on the bundled real Comext sample "
            f"({sample[0]}..{sample[-1]}) with synthetic partner data, served over local HTTP."
        ),
        epilog="example:  mirror-trade demo --start 2022-01 --end 2022-03",
    )
    def demo_command(
        start: Annotated[
            str | None, typer.Option(**MONTH, help=f"First month, YYYY-MM.  [default: {sample[0]}]")
        ] = None,
        end: Annotated[str | None, typer.Option(**MONTH, help=f"Last month, YYYY-MM.  [default: {sample[-1]}]")] = None,
        verbose: Verbose = False,
    ) -> int:
        return run_demo(start, end, verbose=verbose)

    @app.command(
        "nightly",
        help="Find new and revised releases (no data downloaded) and run only the months that changed.",
        epilog="example:  mirror-trade nightly",
    )
    def nightly_command(verbose: Verbose = False) -> int:
        return run_nightly(verbose=verbose)
