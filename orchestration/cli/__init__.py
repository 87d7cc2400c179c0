"""mirror-trade: run the pipeline, the offline demo, or the sample server; read what was published.

Every command ends a foreseeable failure in one paragraph and an exit code (orchestration.cli.common), never a
traceback. Commands import what they need when they run, so `--help` and refusals answer at once.
"""

from __future__ import annotations

import sys

import typer

from orchestration.cli import analyst, run, sample
from orchestration.cli.common import FAILED, USAGE, CliError, tell_failure
from orchestration.cli.run import RunLocked, run_lock, run_pipeline
from orchestration.lib.config import ConfigError

__all__ = ["RunLocked", "app", "main", "run_lock", "run_pipeline"]

app = typer.Typer(
    name="mirror-trade",
    help="Mirror trade statistics: Comext and partner reports -> checked, published DuckDB warehouse.",
    epilog="example:  mirror-trade run --start 2022-01 --end 2022-06",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
run.register(app)
sample.register(app)
analyst.register(app)


def main(argv: list[str] | None = None) -> int:
    """The console script: the command's exit code; a usage error or a foreseeable failure in one paragraph."""
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), "")
    try:
        code = typer.main.get_command(app).main(args=args, prog_name="mirror-trade", standalone_mode=False)
    except typer.Abort:
        tell_failure(command, "interrupted; nothing was published by this command")
        return 130
    except typer.TyperException as exc:
        # Typer's (vendored click's) usage errors: a wrong command, option or value, exit code 2.
        known = command in {c.name for c in app.registered_commands}
        where = f"mirror-trade {command}" if known else "mirror-trade"
        code = getattr(exc, "exit_code", USAGE)
        hint = f" (see {where} --help)" if code == USAGE else ""
        print(f"{where}: {exc.format_message()}{hint}", file=sys.stderr)
        return code
    except CliError as exc:
        tell_failure(command, str(exc))
        return exc.code
    except ConfigError as exc:
        tell_failure(command, f"{exc}; fix or unset it (the README's Configuration section lists the settings)")
        return USAGE
    except OSError as exc:
        # A file or folder the command needs cannot be read or written (full disk, permissions, a missing path).
        tell_failure(command, f"{exc.strerror or exc}: {exc.filename or ''}; nothing was published by this command")
        return FAILED
    return code if isinstance(code, int) else 0
