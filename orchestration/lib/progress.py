"""One line per stage and month for a person watching `mirror-trade run`; the Dagster log keeps every detail."""

from __future__ import annotations

import logging
from typing import Protocol

PROGRESS = logging.getLogger("mirror_trade.progress")
# Printed only where a command attaches a handler (the CLI's default output); never twice through the root logger.
PROGRESS.propagate = False
PROGRESS.setLevel(logging.INFO)


class _Log(Protocol):
    def info(self, msg: str) -> None: ...


def progress_line(log: _Log, text: str) -> None:
    """`text` into the Dagster log (what `dagster dev` and `--verbose` show) and to the progress line reader."""
    log.info(text)
    PROGRESS.info(text)
