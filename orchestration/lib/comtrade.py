"""UN Comtrade API v1: monthly HS data as reported by partner countries (SOURCES.md section 2).

- With a key: `/data/v1/get/C/M/HS`, header `Ocp-Apim-Subscription-Key`, up to 100,000 records a call.
- Without: the public preview `/public/v1/preview/C/M/HS`, at most 500 records a call.
- `/public/v1/getDa/C/M/HS` (or `/data/v1/getDa/...` with a key) says which reporter released which month, when
  (`firstReleased`, `lastReleased`) and with which `datasetChecksum`.
Every response is `{"elapsedTime", "count", "data": [...], "error"}`. A call that returns as many records as its cap
was probably cut off; it is split (products, then partners, then flows) until every piece is under the cap.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import requests

from orchestration.lib.config import HttpPolicy
from orchestration.lib.errors import FormatError, SourceError
from orchestration.lib.http import download_file

SOURCE = "comtrade"
PREVIEW_CAP = 500
FLOWS = ("M", "X", "RM", "RX")

# The 47 record fields, in the API's order, with the DuckDB type of the typed parquet. Codes are text.
RECORD_FIELDS: dict[str, str] = {
    "typeCode": "VARCHAR",
    "freqCode": "VARCHAR",
    "refPeriodId": "BIGINT",
    "refYear": "INTEGER",
    "refMonth": "INTEGER",
    "period": "VARCHAR",
    "reporterCode": "INTEGER",
    "reporterISO": "VARCHAR",
    "reporterDesc": "VARCHAR",
    "flowCode": "VARCHAR",
    "flowDesc": "VARCHAR",
    "partnerCode": "INTEGER",
    "partnerISO": "VARCHAR",
    "partnerDesc": "VARCHAR",
    "partner2Code": "INTEGER",
    "partner2ISO": "VARCHAR",
    "partner2Desc": "VARCHAR",
    "classificationCode": "VARCHAR",
    "classificationSearchCode": "VARCHAR",
    "isOriginalClassification": "BOOLEAN",
    "cmdCode": "VARCHAR",
    "cmdDesc": "VARCHAR",
    "aggrLevel": "INTEGER",
    "isLeaf": "BOOLEAN",
    "customsCode": "VARCHAR",
    "customsDesc": "VARCHAR",
    "mosCode": "VARCHAR",
    "motCode": "INTEGER",
    "motDesc": "VARCHAR",
    "qtyUnitCode": "INTEGER",
    "qtyUnitAbbr": "VARCHAR",
    "qty": "DOUBLE",
    "isQtyEstimated": "BOOLEAN",
    "altQtyUnitCode": "INTEGER",
    "altQtyUnitAbbr": "VARCHAR",
    "altQty": "DOUBLE",
    "isAltQtyEstimated": "BOOLEAN",
    "netWgt": "DOUBLE",
    "isNetWgtEstimated": "BOOLEAN",
    "grossWgt": "DOUBLE",
    "isGrossWgtEstimated": "BOOLEAN",
    "cifvalue": "DECIMAL(24,4)",
    "fobvalue": "DECIMAL(24,4)",
    "primaryValue": "DECIMAL(24,4)",
    "legacyEstimationFlag": "INTEGER",
    "isReported": "BOOLEAN",
    "isAggregate": "BOOLEAN",
}
assert len(RECORD_FIELDS) == 47

AVAILABILITY_FIELDS: dict[str, str] = {
    "reporterCode": "INTEGER",
    "period": "VARCHAR",
    "totalRecords": "BIGINT",
    "datasetChecksum": "VARCHAR",
    "firstReleased": "VARCHAR",
    "lastReleased": "VARCHAR",
}


def _struct(fields: dict[str, str]) -> str:
    return "STRUCT(" + ", ".join(f'"{name}" {typ}' for name, typ in fields.items()) + ")"


ENVELOPE_COLUMNS = "{'elapsedTime': 'VARCHAR', 'count': 'BIGINT', 'error': 'VARCHAR', 'data': 'JSON[]'}"


@dataclass(frozen=True)
class Query:
    reporter: int
    period: str
    flows: tuple[str, ...]
    partners: tuple[int, ...]
    products: tuple[str, ...]

    def params(self, max_records: int) -> dict[str, str]:
        return {
            "reporterCode": str(self.reporter),
            "period": self.period,
            "flowCode": ",".join(self.flows),
            "partnerCode": ",".join(str(p) for p in self.partners),
            "cmdCode": ",".join(self.products),
            "maxRecords": str(max_records),
            "includeDesc": "true",
        }

    @property
    def key(self) -> str:
        canonical = json.dumps([self.reporter, self.period, self.flows, self.partners, self.products])
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def split(self) -> list[Query]:
        """Halve the largest splittable dimension: products, then partners, then flows."""
        for name in ("products", "partners", "flows"):
            values = getattr(self, name)
            if len(values) > 1:
                half = len(values) // 2
                return [
                    Query(**{**self.__dict__, name: values[:half]}),
                    Query(**{**self.__dict__, name: values[half:]}),
                ]
        return []

    def describe(self) -> str:
        return (
            f"reporter {self.reporter}, flows {','.join(self.flows)}, {len(self.partners)} partners, "
            f"{len(self.products)} products"
        )


@dataclass
class Throttle:
    """At least `interval_s` between the starts of two calls."""

    interval_s: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: float | None = field(default=None, init=False)

    def wait(self) -> None:
        if self._last is not None:
            remaining = self.interval_s - (self.clock() - self._last)
            if remaining > 0:
                self.sleep(remaining)
        self._last = self.clock()


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


class ComtradeApi:
    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        api_key: str | None,
        policy: HttpPolicy,
        throttle: Throttle,
        max_records: int,
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.keyed = bool(api_key)
        self.policy = policy
        self.throttle = throttle
        self.cap = min(max_records, 250_000) if self.keyed else PREVIEW_CAP
        self.log = log
        self.sleep = sleep
        if api_key:
            session.headers["Ocp-Apim-Subscription-Key"] = api_key

    @property
    def data_path(self) -> str:
        return "/data/v1/get/C/M/HS" if self.keyed else "/public/v1/preview/C/M/HS"

    @property
    def availability_path(self) -> str:
        return "/data/v1/getDa/C/M/HS" if self.keyed else "/public/v1/getDa/C/M/HS"

    def _get(self, path: str, params: dict[str, str], dest: Path, what: str) -> Envelope:
        self.throttle.wait()
        download_file(
            self.session,
            f"{self.base_url}{path}?{urlencode(params, safe=',')}",
            dest,
            what=what,
            policy=self.policy,
            log=self.log,
            sleep=self.sleep,
        )
        try:
            return read_envelope(dest, what)
        except SourceError:
            dest.unlink(missing_ok=True)
            raise

    def availability(self, reporters: list[int], period: str, dest: Path) -> list[dict]:
        """getDa for the reporters and month, saved at `dest`; one dict per released (reporter, month)."""
        what = f"Comtrade {period[:4]}-{period[4:]} getDa"
        params = {"reporterCode": ",".join(str(r) for r in reporters), "period": period}
        self._get(self.availability_path, params, dest, what)
        fields = ", ".join(f"CAST(d->>'{name}' AS {typ})" for name, typ in AVAILABILITY_FIELDS.items())
        rows = duckdb.execute(
            f"""SELECT {fields}
                FROM (SELECT unnest(data) AS d FROM read_json(?, columns = {ENVELOPE_COLUMNS}, format = 'auto'))""",
            [str(dest)],
        ).fetchall()
        return [dict(zip(AVAILABILITY_FIELDS, row, strict=True)) for row in rows]

    def fetch(self, query: Query, folder: Path) -> list[Path]:
        """Responses covering `query`, saved in `folder` as q-<key>.json; files already there are not fetched
        again. Returns the files whose records are complete (under the cap)."""
        path = folder / f"q-{query.key}.json"
        what = f"Comtrade {query.period[:4]}-{query.period[4:]} {path.name} ({query.describe()})"
        if path.exists():
            envelope = read_envelope(path, what)
        else:
            envelope = self._get(self.data_path, query.params(self.cap), path, what)
            (folder / f"params-{query.key}.json").write_text(json.dumps(query.params(self.cap), sort_keys=True))
        if envelope.rows < self.cap:
            return [path]
        parts = query.split()
        if not parts:
            raise SourceError(
                f"{what}: a single-product, single-partner, single-flow call returned {envelope.rows} records, "
                f"the cap of this endpoint; cannot split further"
            )
        self.log(f"{what}: {envelope.rows} records hit the cap of {self.cap}; splitting into {len(parts)} calls")
        return [leaf for part in parts for leaf in self.fetch(part, folder)]


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
