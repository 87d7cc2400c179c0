"""The dbt the pipeline runs (`mirror-trade-dbt`): dbt's own CLI, with two costs of every run taken out.

1. **The parse.** dbt re-parses the whole project whenever a command's `--vars` differ from the last parse's, or the
   profile's connection (the run's private build file) does; every run has a new month window and a new build file,
   so every run paid a full parse. Here a `build`/`run`/`test`/`compile` that carries `--vars` first parses in this
   process WITHOUT them, with a fixed stand-in for the build file and its own target folder
   (`MIRROR_TRADE_DBT_PARSE_DIR`, one per dbt target), so dbt's partial parsing applies: only files changed since the
   last run are parsed again. The command then runs on that manifest, in the same process, with its vars and the
   real build file: dbt reads vars and the connection when it compiles and runs, not when it parses. (Nothing in the
   project's configs, hooks or YAML reads the month window at parse time; a test in `tests/test_readme.py` compiles
   every model and test both ways and requires the same SQL.)
2. **`--version`**, which dagster-dbt asks once a process, answered from the installed packages' metadata instead of
   starting dbt (2 s).

Everything else, and every command when `MIRROR_TRADE_DBT_PARSE_DIR` is not set, is dbt's CLI unchanged.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version

PARSE_DIR_ENV = "MIRROR_TRADE_DBT_PARSE_DIR"
PREPARED_COMMANDS = {"build", "run", "test", "compile"}
# Options the parse shares with the command: they choose the project, the profile and the target, and where and
# how dbt logs.
SHARED_OPTIONS = {"--project-dir", "--profiles-dir", "--profile", "--target", "-t", "--log-path", "--log-format"}
BUILD_DB_ENV = "MIRROR_TRADE_BUILD_DB"


def _version_text() -> str:
    lines = ["Core:", f"  - installed: {version('dbt-core')}", "", "Plugins:"]
    for plugin in ("dbt-duckdb", "dbt-spark"):
        try:
            lines.append(f"  - {plugin.removeprefix('dbt-')}: {version(plugin)}")
        except PackageNotFoundError:
            continue
    return "\n".join(lines)


def _shared_options(args: list[str]) -> list[str]:
    shared: list[str] = []
    for index, arg in enumerate(args):
        name, has_value, _ = arg.partition("=")
        if name in SHARED_OPTIONS:
            shared.extend([arg] if has_value else args[index : index + 2])
    return shared


def _target(args: list[str]) -> str:
    for index, arg in enumerate(args):
        name, has_value, value = arg.partition("=")
        if name in {"--target", "-t"}:
            return value if has_value else args[index + 1]
    return "default"


def _exit_code(result) -> int:
    """dbt's own exit codes: 0 success, 1 a node failed, 2 dbt itself failed."""
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def prepared_manifest(args: list[str], parse_dir: str):
    """Parse the project as `args` would, without their vars, into `parse_dir`/<target>; the manifest, or None."""
    from dbt.cli.main import dbtRunner

    target_path = os.path.join(parse_dir, _target(args))
    os.makedirs(target_path, exist_ok=True)
    build_db = os.environ.get(BUILD_DB_ENV)
    # The profile's connection is part of what dbt compares before a partial parse: a fixed stand-in for the run's
    # private build file (nothing connects during a parse); the command below connects to the real one. The parse
    # names every relation by the file's catalog, which DuckDB takes from the file name up to its first dot
    # (build files are run.<run id>.duckdb: catalog "run"), so the stand-in keeps that part.
    catalog = os.path.basename(build_db or "dev.duckdb").lstrip(".").split(".")[0]
    os.environ[BUILD_DB_ENV] = os.path.join(target_path, f"{catalog}.parse-only.duckdb")
    try:
        result = dbtRunner().invoke(["parse", "--quiet", "--target-path", target_path, *_shared_options(args)])
    finally:
        if build_db is None:
            os.environ.pop(BUILD_DB_ENV, None)
        else:
            os.environ[BUILD_DB_ENV] = build_db
    return result.result if result.success else None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        print(_version_text())
        return 0
    from dbt.cli.main import dbtRunner

    parse_dir = os.environ.get(PARSE_DIR_ENV)
    command = next((a for a in args if not a.startswith("-")), None)
    if parse_dir and command in PREPARED_COMMANDS and any(a == "--vars" or a.startswith("--vars=") for a in args):
        manifest = prepared_manifest(args, parse_dir)
        if manifest is None:
            # The parse failed: let the command parse again and report the error as dbt always does.
            return _exit_code(dbtRunner().invoke(args))
        return _exit_code(dbtRunner(manifest=manifest).invoke(args))
    return _exit_code(dbtRunner().invoke(args))


if __name__ == "__main__":
    sys.exit(main())
