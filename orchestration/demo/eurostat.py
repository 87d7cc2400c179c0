"""A local HTTP server that serves Comext files the way Eurostat's dissemination API does.

Used by the offline demo (the bundled real sample) and by the tests, which can also make it misbehave the ways
real servers do (see `servers`). Files are served with `Range` support (a resume gets 206 with Content-Range), as
Eurostat's are. Extra faults: 'wrongtype', an HTML body labelled as a binary file; 'norange', the whole file (200)
whatever Range asks, as a server without Range support answers.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from orchestration.demo.servers import ERROR_HTML, FaultyHandler, LocalServer

FILES_PATH = "/eurostat/api/dissemination/files"
PRODUCTS_DIR = "comext/COMEXT_DATA/PRODUCTS"


class _Handler(FaultyHandler):
    server_state: EurostatFileServer

    def do_GET(self) -> None:
        state = self.server_state
        state.record(self.path, dict(self.headers))
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path != FILES_PATH:
            self.send_body(404, b'{"error": "unknown path"}', "application/json")
            return
        if query.get("format") == ["csv"] and query.get("dir") == [PRODUCTS_DIR]:
            self.send_body(200, state.listing_csv(), "text/csv; charset=utf-8")
            return
        requested = (query.get("file") or [""])[0]
        folder, _, name = requested.rpartition("/")
        path = state.root / name
        if folder != PRODUCTS_DIR or not name or not path.is_file():
            self.send_body(404, b'{"error": "file not found"}', "application/json")
            return
        body = path.read_bytes()
        fault = state.next_fault(name)
        if fault not in (None, "truncate", "norange") and self.send_fault(fault, body, "application/octet-stream"):
            return
        if fault == "wrongtype":
            self.send_body(200, ERROR_HTML, "application/octet-stream")
            return
        modified = format_datetime(datetime.fromtimestamp(path.stat().st_mtime, UTC), usegmt=True)
        if fault == "norange":
            self.send_body(200, body, "application/octet-stream", {"Last-Modified": modified})
            return
        self.send_ranged(body, "application/octet-stream", {"Last-Modified": modified}, truncate=fault == "truncate")


class EurostatFileServer(LocalServer):
    """Serves every file of `root` as comext/COMEXT_DATA/PRODUCTS/<name>."""

    handler = _Handler

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        super().__init__(host, port)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{FILES_PATH}"

    def listing_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["NAME", "SIZE", "LAST UPDATE", "TYPE"])
        for path in sorted(self.root.glob("*.7z")):
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            writer.writerow([path.name, stat.st_size, modified, "FILE"])
        return out.getvalue().encode()
