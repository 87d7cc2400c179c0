"""`report`, `sql` and `docs`: what an analyst does with the published warehouse. None of them writes to it."""

import contextlib
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.common import MONTH, USAGE, CliError, integer, say
from orchestration.lib.config import DBT_PROJECT_DIR, Settings, load_settings


def _published(settings: Settings) -> Path:
    if not settings.published_warehouse.exists():
        raise CliError(
            f"nothing published yet at {settings.published_warehouse}; `mirror-trade run` (or `mirror-trade demo`) "
            "publishes the warehouse, or set MIRROR_TRADE_HOME to the home that holds one."
        )
    return settings.published_warehouse


def make_report(period: str | None, out: Path | None, settings: Settings | None = None) -> int:
    from orchestration.lib.report.html import PeriodNotPublished, build_report

    settings = settings or load_settings()
    warehouse = _published(settings)
    month = date(int(period[:4]), int(period[5:]), 1) if period else None
    default = settings.published_dir / (f"report-{period}.html" if period else "report.html")
    try:
        path = build_report(warehouse, out or default, month)
    except PeriodNotPublished as exc:
        raise CliError(f"{exc}; choose a month the publication holds", USAGE) from None
    say("report", f"wrote {path}")
    return 0


def run_sql(query: str, csv: Path | None, parquet: Path | None, max_rows: int) -> int:
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise CliError(f"the query does not parse: {exc}", USAGE) from None
    if len(statements) != 1:
        raise CliError(f"expected one SQL statement, got {len(statements)}; run them one at a time", USAGE)
    warehouse = _published(load_settings())
    # read_only: analysts can never change the publication; a publication under way replaces the file by rename,
    # so this connection keeps reading the version it opened.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            relation = con.sql(query)
            if relation is None:
                raise CliError("the statement returned no rows")
            if csv:
                relation.write_csv(str(csv), header=True)
                say("sql", f"wrote {csv}")
            if parquet:
                relation.to_parquet(str(parquet))
                say("sql", f"wrote {parquet}")
            if not (csv or parquet):
                relation.show(max_rows=max_rows, max_width=200)
        except duckdb.Error as exc:
            raise CliError(str(exc)) from None
    return 0


def serve_docs(port: int, serve: bool, verbose: bool = False) -> int:
    from orchestration.lib.dbt_manifest import DBT_EXECUTABLE

    settings = load_settings()
    target = settings.home / "docs"
    target.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MIRROR_TRADE_HOME": str(settings.home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.setdefault("DBT_USE_COLORS", "false")
    # dbt opens its database read-write: give it a copy, never the analysts' file (or, with nothing published yet,
    # an empty file of its own: the dictionary then describes the models without the tables' catalog).
    copy = target / "catalog-source.duckdb"
    copy.unlink(missing_ok=True)
    if settings.published_warehouse.exists():
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
    # --static also writes static_index.html: manifest and catalog inlined, so it opens from the file system.
    generate = subprocess.run(
        [DBT_EXECUTABLE, "docs", "generate", "--static", *common],
        env=env,
        cwd=DBT_PROJECT_DIR,
        capture_output=not verbose,
        text=True,
        check=False,
    )
    if generate.returncode != 0:
        errors = [line.strip() for line in (generate.stdout or "").splitlines() if "rror" in line]
        raise CliError(
            f"dbt docs generate failed (exit {generate.returncode}) in {DBT_PROJECT_DIR}: "
            f"{' | '.join(errors[-4:]) or 'see its output with --verbose'}"
        )
    static = target / "static_index.html"
    say("docs", f"data dictionary in {static} (one file: it opens from the file system, e.g. {static.as_uri()})")
    if serve:
        say("docs", f"serving {target / 'index.html'} at http://127.0.0.1:{port} (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            served = subprocess.run(
                [DBT_EXECUTABLE, "docs", "serve", *common, "--port", str(port), "--host", "127.0.0.1", "--no-browser"],
                env=env,
                check=False,
                cwd=DBT_PROJECT_DIR,
            )
            if served.returncode != 0:
                raise CliError(
                    f"dbt docs serve could not serve on port {port} (exit {served.returncode}); is the port in use? "
                    f"Choose another --port, or open {static} directly."
                )
    else:
        say("docs", f"to serve it over HTTP instead: mirror-trade docs --port {port}")
    return 0


def register(app: typer.Typer) -> None:
    @app.command(
        "report",
        help="Write the self-contained HTML report of the published warehouse.",
        epilog="examples:  mirror-trade report;  mirror-trade report --period 2022-05 --out may.html",
    )
    def report_command(
        period: Annotated[
            str | None,
            typer.Option(**MONTH, help="Month of the signals table, YYYY-MM.  [default: the newest]"),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(dir_okay=False, help="Where to write the HTML.  [default: next to the publication]"),
        ] = None,
    ) -> int:
        return make_report(period, out)

    @app.command(
        "sql",
        help="Query the published warehouse read-only: one SQL statement, printed or written to a file.",
        epilog=(
            'examples:  mirror-trade sql "SELECT * FROM marts.fct_circumvention_signals WHERE rank_in_month <= 10"'
            ';  mirror-trade sql "SELECT * FROM marts.fct_mirror_flows" --csv mirror.csv'
        ),
    )
    def sql_command(
        query: Annotated[str, typer.Argument(help="One SQL statement (DuckDB dialect).", show_default=False)],
        csv: Annotated[
            Path | None, typer.Option(dir_okay=False, help="Write the result to this CSV file instead of printing it.")
        ] = None,
        parquet: Annotated[
            Path | None,
            typer.Option(dir_okay=False, help="Write the result to this parquet file instead of printing it."),
        ] = None,
        max_rows: Annotated[int, typer.Option(**integer(1), help="Rows to print at most.")] = 40,
    ) -> int:
        return run_sql(query, csv, parquet, max_rows)

    @app.command(
        "docs",
        help=(
            "Build the data dictionary (dbt docs): static_index.html opens from the file system; then serve it "
            "locally unless --no-serve."
        ),
        epilog="examples:  mirror-trade docs;  mirror-trade docs --no-serve",
    )
    def docs_command(
        port: Annotated[int, typer.Option(**integer(1, 65535), help="Port to serve the docs on (127.0.0.1).")] = 8580,
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Only build it; do not serve it.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show dbt's own output.")] = False,
    ) -> int:
        return serve_docs(port, serve=not no_serve, verbose=verbose)
