"""Asking UN Comtrade: the calls (data and getDa), the throttle between them, and the split of a call that
hits the cap (products, then partners, then flows) until every piece is under it.

Endpoints, caps and the envelope are facts of the source (`facts`); reading a saved response is `parse`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import requests

from orchestration.lib.config import HttpPolicy
from orchestration.lib.errors import SourceError
from orchestration.lib.http import download_file
from orchestration.lib.sources.comtrade.facts import (
    AVAILABILITY_FIELDS,
    ENVELOPE_COLUMNS,
    KEY_HEADER,
    KEYED_AVAILABILITY_PATH,
    KEYED_CAP,
    KEYED_DATA_PATH,
    PREVIEW_AVAILABILITY_PATH,
    PREVIEW_CAP,
    PREVIEW_DATA_PATH,
)
from orchestration.lib.sources.comtrade.parse import Envelope, read_envelope


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
        self.cap = min(max_records, KEYED_CAP) if self.keyed else PREVIEW_CAP
        self.log = log
        self.sleep = sleep
        if api_key:
            session.headers[KEY_HEADER] = api_key

    @property
    def data_path(self) -> str:
        return KEYED_DATA_PATH if self.keyed else PREVIEW_DATA_PATH

    @property
    def availability_path(self) -> str:
        return KEYED_AVAILABILITY_PATH if self.keyed else PREVIEW_AVAILABILITY_PATH

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
