"""Reading saved Comtrade responses: the envelope's checks, the 47 documented fields of every record, the typed
records (an explicit schema, `facts.RECORD_FIELDS`) and a release's vintage name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.errors import FormatError, SourceError
from orchestration.lib.sources.comtrade.facts import ENVELOPE_COLUMNS, RECORD_FIELDS


def _struct(fields: dict[str, str]) -> str:
    return "STRUCT(" + ", ".join(f'"{name}" {typ}' for name, typ in fields.items()) + ")"


@dataclass(frozen=True)
class Envelope:
    count: int
    rows: int
    error: str


def read_envelope(path: Path, what: str) -> Envelope:
    """Check a saved response is a Comtrade envelope whose `count` matches its rows and has no `error`."""
    try:
        row = duckdb.execute(
            f"SELECT count, error, len(data) FROM read_json(?, columns = {ENVELOPE_COLUMNS}, format = 'auto')",
            [str(path)],
        ).fetchall()
    except duckdb.Error as exc:
        raise FormatError(f"{what}: response is not valid JSON (truncated?): {str(exc).splitlines()[0]}") from exc
    if len(row) != 1 or row[0][0] is None or row[0][2] is None:
        raise FormatError(f"{what}: response is not a Comtrade envelope with 'count' and 'data'")
    count, error, rows = row[0]
    if error:
        raise SourceError(f"{what}: Comtrade answered with error {error!r}")
    if count != rows:
        raise FormatError(f"{what}: envelope says count={count} but holds {rows} records; refusing a partial answer")
    return Envelope(count=count, rows=rows, error=error or "")


def check_record_fields(files: list[Path], what: str) -> None:
    """Every record must carry exactly the 47 documented fields: a renamed or dropped field is an error,
    never a silent NULL."""
    if not files:
        return
    paths = ", ".join(f"'{p}'" for p in files)
    expected = sorted(RECORD_FIELDS)
    bad = duckdb.execute(
        f"""SELECT filename, list_sort(json_keys(d)) AS keys
            FROM (SELECT filename, unnest(data) AS d
                  FROM read_json([{paths}], columns = {ENVELOPE_COLUMNS}, format = 'auto', filename = true))
            WHERE list_sort(json_keys(d)) <> ?
            LIMIT 1""",
        [expected],
    ).fetchall()
    if bad:
        file, keys = bad[0]
        missing = sorted(set(expected) - set(keys))
        extra = sorted(set(keys) - set(expected))
        raise FormatError(
            f"{what}: {Path(file).name} has records without the 47 documented fields "
            f"(missing {', '.join(missing) or '-'}; unexpected {', '.join(extra) or '-'})"
        )


def records_select(files: list[Path]) -> str:
    """SQL that reads the records of saved responses, typed, with the file each came from."""
    paths = ", ".join(f"'{p}'" for p in files)
    return f"""
        SELECT rec.*, filename AS response_file
        FROM (
            SELECT filename, unnest(CAST(data AS {_struct(RECORD_FIELDS)}[])) AS rec
            FROM read_json([{paths}], columns = {ENVELOPE_COLUMNS}, format = 'auto', filename = true)
        )
    """


def vintage_name(entry: dict) -> str:
    """A release's folder name, from getDa: lastReleased and datasetChecksum."""
    stamp = re.sub(r"[^0-9A-Za-z]", "", entry["lastReleased"] or "unknown")[:20]
    return f"{stamp}_{(entry['datasetChecksum'] or 'nochecksum')[:12]}"
