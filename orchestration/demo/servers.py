"""What every stand-in server shares: a threaded local HTTP server, its request log, and a queue of faults.

Faults are the ways real servers misbehave: '429' or '429:<seconds>' (Retry-After), '500', '503' (HTML error
page), 'html200' (an HTML page with status 200), 'truncate' (Content-Length promises more than is sent).
Files are served with `Range` support (`send_ranged`), so that a client can resume a body cut short.
Subclasses add their own (e.g. Comtrade's 'mismatch'). Each request to a faulted key consumes one fault.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RANGE = re.compile(r"^bytes=(\d+)-$")
ERROR_HTML = b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>Maintenance</body></html>"


class LocalServer:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        handler = type("Handler", (self.handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def root_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, key: str, *faults: str) -> None:
        """Queue faults for the next requests of `key` (a file name or endpoint, as the server defines)."""
        with self._lock:
            self.faults[key].extend(faults)

    def next_fault(self, key: str) -> str | None:
        with self._lock:
            queue = self.faults.get(key)
            return queue.popleft() if queue else None

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(path)
            self.request_headers.append(headers)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FaultyHandler(BaseHTTPRequestHandler):
    """Sends bodies, or the common faults instead of them."""

    server_state: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # tests and the demo print their own
        pass

    def send_body(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def send_fault(self, fault: str, body: bytes, content_type: str) -> bool:
        """Answer with `fault` if it is a common one; False when the subclass must handle it."""
        if fault.startswith("429"):
            wait = fault.partition(":")[2] or "1"
            self.send_body(429, b"Too Many Requests", "text/plain", {"Retry-After": wait})
        elif fault in ("500", "502", "503"):
            self.send_body(int(fault), ERROR_HTML, "text/html")
        elif fault == "html200":
            self.send_body(200, ERROR_HTML, "text/html; charset=utf-8")
        elif fault == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            return False
        return True

    def send_ranged(self, body: bytes, content_type: str, extra: dict[str, str], *, truncate: bool = False) -> None:
        """`body` whole (200), or the rest a resume asks for with `Range: bytes=N-` (206 with Content-Range), as
        Eurostat's file server does; an `If-Range` naming another version gets the whole body, a range past the
        end 416. Only the open-ended range a resume sends is understood: any other is ignored (a 200, as RFC 9110
        allows). `truncate` sends half of what it promises, then closes the connection."""
        status, start = 200, 0
        wanted = RANGE.match(self.headers.get("Range", "").strip())
        if_range = self.headers.get("If-Range")
        if wanted and (if_range is None or if_range in (extra.get("ETag"), extra.get("Last-Modified"))):
            start = int(wanted.group(1))
            if start >= len(body):
                self.send_body(416, b"", "text/plain", {"Content-Range": f"bytes */{len(body)}"})
                return
            status = 206
            extra = {**extra, "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
        rest = body[start:]
        if not truncate:
            self.send_body(status, rest, content_type, {**extra, "Accept-Ranges": "bytes"})
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(rest)))
        self.send_header("Accept-Ranges", "bytes")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(rest[: len(rest) // 2])
        self.wfile.flush()
        self.close_connection = True
