"""Whether a Comext month is new or revised, from the folder listing alone (no data downloaded).

A held vintage records what the listing said of its file (size, last update) when it was fetched; a month is
current while the listing still says exactly that.
"""

from __future__ import annotations

from orchestration.lib import rawstore
from orchestration.lib.config import Settings
from orchestration.lib.sources.comext.facts import SOURCE


def comext_is_current(settings: Settings, period: str, remote: dict) -> bool:
    """The newest held vintage was fetched when the listing said exactly this of the file."""
    vintages = rawstore.list_vintages(settings.raw_dir, SOURCE, period)
    return bool(vintages) and vintages[-1].remote == remote
