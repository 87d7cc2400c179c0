"""What every command shares: month arguments, exit codes, and failures told in one paragraph."""

from __future__ import annotations

import re
import sys
import textwrap
from datetime import UTC, datetime

import typer

# Exit codes: 0 done, 1 the work failed (a source, a check, a step), 2 the command line was wrong, 3 another run
# holds the lock.
FAILED, USAGE, LOCKED = 1, 2, 3
FIRST_MONTH = "2019-01"  # Comext partitions start here
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class CliError(Exception):
    """A foreseeable failure: said in one paragraph (what failed, what was tried, what to do), then an exit code."""

    def __init__(self, message: str, code: int = FAILED):
        super().__init__(message)
        self.code = code


def current_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def parse_month(value: str) -> str:
    """YYYY-MM, from Comext's first partition (2019-01) to the current month: a later month cannot exist yet, and
    asking the sources for it only costs retries."""
    match = MONTH_RE.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter(f"{value!r} is not a month as YYYY-MM")
    if value < FIRST_MONTH:
        raise typer.BadParameter(f"{value}: Comext partitions start at {FIRST_MONTH}")
    if value > current_month():
        raise typer.BadParameter(f"{value} is after the current month ({current_month()}); no source has published it")
    return value


# typer.Option arguments of a month option.
MONTH = {"parser": parse_month, "metavar": "YYYY-MM"}


def integer(low: int, high: int | None = None) -> dict:
    """typer.Option arguments of a whole number in [low, high]; the range shows in the help."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a whole number") from None
        if number < low or (high is not None and number > high):
            raise typer.BadParameter(f"{number} is outside {low}..{high if high is not None else ''}")
        return number

    return {"parser": parse, "metavar": f"{low}..{high if high is not None else ''}"}


def say(command: str, text: str) -> None:
    print(f"mirror-trade {command}: {text}", flush=True)


def tell_failure(command: str, text: str) -> None:
    """One paragraph on stderr, wrapped for a terminal."""
    tell(f"mirror-trade {command}: {text}")


def tell(paragraph: str) -> None:
    # URLs and paths stay whole, so that they can be copied from the terminal.
    text = textwrap.fill(paragraph, width=110, break_long_words=False, break_on_hyphens=False)
    print(text, file=sys.stderr, flush=True)
