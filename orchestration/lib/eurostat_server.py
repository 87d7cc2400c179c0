"""A local HTTP server that serves Comext files the way Eurostat's dissemination API does.

Used by the offline demo (the bundled real sample) and by the tests, which can also make it misbehave the
ways real servers do: 429 with Retry-After, 5xx, bodies cut short, HTML pages with status 200.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import defaultdict, deque
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FILES_PATH = "/eurostat/api/dissemination/files"
PRODUCTS_DIR = "comext/COMEXT_DATA/PRODUCTS"

ERROR_HTML = b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>Maintenance</body></html>"


class EurostatFileServer:
    """Serves every file of `root` as comext/COMEXT_DATA/PRODUCTS/<name>."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{FILES_PATH}"

    def inject(self, file_name: str, *faults: str) -> None:
        """Queue faults for the next requests of `file_name`: '429', '429:<seconds>', '503', '500',
        'truncate', 'html200', 'wrongtype'. Each request consumes one."""
        with self._lock:
            self.faults[file_name].extend(faults)

    def next_fault(self, file_name: str) -> str | None:
        with self._lock:
            queue = self.faults.get(file_name)
            return queue.popleft() if queue else None

    def __enter__(self) -> EurostatFileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def listing_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["NAME", "SIZE", "LAST UPDATE", "TYPE"])
        for path in sorted(self.root.glob("*.7z")):
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            writer.writerow([path.name, stat.st_size, modified, "FILE"])
        return out.getvalue().encode()


class _Handler(BaseHTTPRequestHandler):
    server_state: EurostatFileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests and the demo print their own
        pass

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server_state
        parts = urlsplit(self.path)
        state.requests.append(self.path)
        query = parse_qs(parts.query)
        if parts.path != FILES_PATH:
            self._send(404, b'{"error": "unknown path"}', "application/json")
            return
        if query.get("format") == ["csv"] and query.get("dir") == [PRODUCTS_DIR]:
            self._send(200, state.listing_csv(), "text/csv; charset=utf-8")
            return
        requested = (query.get("file") or [""])[0]
        folder, _, name = requested.rpartition("/")
        path = state.root / name
        if folder != PRODUCTS_DIR or not name or not path.is_file():
            self._send(404, b'{"error": "file not found"}', "application/json")
            return
        fault = state.next_fault(name)
        body = path.read_bytes()
        if fault and fault.startswith("429"):
            wait = fault.partition(":")[2] or "1"
            self._send(429, b"Too Many Requests", "text/plain", {"Retry-After": wait})
        elif fault in ("500", "503"):
            self._send(int(fault), ERROR_HTML, "text/html")
        elif fault == "html200":
            self._send(200, ERROR_HTML, "text/html; charset=utf-8")
        elif fault == "wrongtype":
            self._send(200, ERROR_HTML, "application/octet-stream")
        elif fault == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            modified = format_datetime(datetime.fromtimestamp(path.stat().st_mtime, UTC), usegmt=True)
            self._send(200, body, "application/octet-stream", {"Last-Modified": modified})
