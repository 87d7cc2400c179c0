"""Polite, resumable file downloads: every source's HTTP goes through here.

Two layers, each doing what it is good at. urllib3's `Retry`, mounted on the `requests` session, retries what a
status code or a failed connection says (429 and 5xx, backing off exponentially or as long as `Retry-After` asks,
up to `HttpPolicy.max_wait_s`). What it cannot do is ours: a body cut short is resumed with `Range` (guarded by
`If-Range`, so a file that changed meanwhile starts again) and the assembled file is verified against the size
the server announced; an HTML page served with status 200 or a body without the expected signature is an error.

A download streams into a `.part` file beside its destination, hashing as it goes; only a complete, verified
body is renamed into place. A crash mid-download leaves only a `.part` file, which nothing ever counts as data.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from orchestration.lib.config import HttpPolicy
from orchestration.lib.errors import SourceError

USER_AGENT = "mirror-trade/0.1 (+https://github.com/mirror-trade; open-source trade statistics pipeline)"
CHUNK_BYTES = 1 << 20
# What a read asks for at a time: a read cut short loses what it was filling, so a resume repeats at most this much.
READ_BYTES = 1 << 16
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Download:
    path: Path
    url: str
    sha256: str
    size_bytes: int
    retrieved_at: datetime
    attempts: int
    headers: dict[str, str] = field(default_factory=dict)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


class WaitTooLong(Exception):
    """A server asked us to wait longer than the policy allows."""

    def __init__(self, wait_s: float, reason: str):
        super().__init__(f"asked to wait {wait_s:.0f}s ({reason})")
        self.wait_s = wait_s
        self.reason = reason


def _failure(entry) -> str:
    """One attempt's failure, as error messages name it: 'HTTP 503' or 'connection failed: ConnectionError'."""
    if entry.status:
        return f"HTTP {entry.status}"
    kind = {"ReadTimeoutError": "ReadTimeout", "ConnectTimeoutError": "ConnectTimeout"}
    return f"connection failed: {kind.get(type(entry.error).__name__, 'ConnectionError')}"


class PoliteRetry(Retry):
    """urllib3's Retry with the policy's rules: the wait before retry n is backoff_base_s * 2**(n-1) (urllib3 does
    not wait before the first), `Retry-After` (seconds or an HTTP date) is honoured, a wait beyond `max_wait_s`
    raises WaitTooLong at once, and the waiting goes through `pause`, so that tests can count it."""

    def __init__(
        self,
        *args,
        max_wait_s: float = 300.0,
        pause: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.max_wait_s = max_wait_s
        self.pause = pause
        self.log = log

    def new(self, **kwargs) -> PoliteRetry:
        retry = super().new(**kwargs)
        retry.max_wait_s, retry.pause, retry.log = self.max_wait_s, self.pause, self.log
        return retry

    def get_backoff_time(self) -> float:
        return self.backoff_factor * 2 ** (len(self.history) - 1) if self.history else 0.0

    def sleep(self, response=None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.get_backoff_time()
        last = self.history[-1]
        reason = _failure(last)
        if wait > self.max_wait_s:
            raise WaitTooLong(wait, reason)
        if self.log:
            self.log(f"{last.url}: attempt {len(self.history)} failed ({reason}); retrying in {wait:.1f}s")
        self.pause(wait)


def new_session(
    policy: HttpPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
) -> requests.Session:
    """A session that retries as `policy` says: up to max_attempts tries of each request on 429, 5xx and failed
    connections. `sleep` and `log` are how it waits and what it says before a retry."""
    policy = policy or HttpPolicy()
    retry = PoliteRetry(
        total=policy.max_attempts - 1,
        status_forcelist=sorted(RETRYABLE_STATUS),
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=policy.backoff_base_s,
        raise_on_status=False,
        max_wait_s=policy.max_wait_s,
        pause=sleep,
        log=log,
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _CutShort(Exception):
    """The body stopped before its end; what arrived is kept in the .part file for a resume."""


def _validator(headers) -> str | None:
    """What If-Range may name: a strong ETag, else Last-Modified (RFC 9110 section 13.1.5)."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def download_file(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    what: str,
    policy: HttpPolicy,
    expect_magic: bytes | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
) -> Download:
    """Stream `url` into `dest` atomically. `what` names source, period and file for every error message.

    Status codes and failed connections are retried by the session (`new_session`); a body cut short is resumed
    from where it stopped with a `Range` request, up to `policy.max_attempts` requests for the body, waiting
    through `sleep` as the policy's backoff says."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    body = _Body(part)
    history: list[str] = []  # one entry per failed HTTP attempt, the session's retries included
    try:
        for round_ in range(1, policy.max_attempts + 1):
            try:
                _attempt(session, url, body, history, what=what, policy=policy, expect_magic=expect_magic)
            except _CutShort:
                if round_ == policy.max_attempts:
                    break
                wait = policy.backoff_base_s * 2 ** (round_ - 1)
                if log:
                    log(f"{what}: {history[-1]}; resuming at byte {body.size:,} in {wait:.1f}s")
                sleep(wait)
                continue
            except _GaveUp:
                break
            body.finish(what=what, url=url)
            os.replace(part, dest)
            return Download(
                path=dest,
                url=url,
                sha256=body.digest.hexdigest(),
                size_bytes=body.size,
                retrieved_at=datetime.now(UTC),
                attempts=len(history) + 1,
                headers=body.headers,
            )
    except WaitTooLong as exc:
        part.unlink(missing_ok=True)
        raise SourceError(
            f"{what}: server asked us to wait {exc.wait_s:.0f}s ({exc.reason}), more than the "
            f"{policy.max_wait_s:.0f}s we allow (MIRROR_TRADE_HTTP_MAX_WAIT); giving up on {url}"
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.unlink(missing_ok=True)
    raise SourceError(
        f"{what}: gave up after {len(history)} attempts to download {url}; failures: {_collapsed(history)}"
    )


def _collapsed(history: list[str]) -> str:
    """'a; a; a; b' -> 'a (3 times); b': the same failure once, with its count."""
    runs: list[list] = []
    for reason in history:
        if runs and runs[-1][0] == reason:
            runs[-1][1] += 1
        else:
            runs.append([reason, 1])
    return "; ".join(reason if count == 1 else f"{reason} ({count} times)" for reason, count in runs)


class _GaveUp(Exception):
    """The session's retries are spent (the last status or connection failure is in the history)."""


class _Body:
    """The body being assembled in the .part file: its size, running sha256, first bytes and the headers of the
    response that started it (what If-Range names)."""

    def __init__(self, part: Path):
        self.part = part
        self.restart()

    def restart(self) -> None:
        self.part.unlink(missing_ok=True)
        self.size = 0
        self.total: int | None = None
        self.digest = hashlib.sha256()
        self.head = b""
        self.validator: str | None = None
        self.headers: dict[str, str] = {}
        self.resumed = False

    def append(self, chunks) -> None:
        with open(self.part, "ab") as out:
            for chunk in chunks:
                out.write(chunk)
                self.digest.update(chunk)
                if len(self.head) < 512:
                    self.head += chunk[: 512 - len(self.head)]
                self.size += len(chunk)

    def finish(self, *, what: str, url: str) -> None:
        """Flush to disk; a body assembled from parts is read back whole and must hash as the stream did."""
        with open(self.part, "rb+") as out:
            os.fsync(out.fileno())
        if self.resumed:
            on_disk = hashlib.sha256()
            with open(self.part, "rb") as stored:
                while chunk := stored.read(CHUNK_BYTES):
                    on_disk.update(chunk)
            if on_disk.hexdigest() != self.digest.hexdigest() or self.part.stat().st_size != self.size:
                raise SourceError(f"{what}: the file assembled from resumed parts does not verify. URL: {url}")


def _attempt(
    session: requests.Session,
    url: str,
    body: _Body,
    history: list[str],
    *,
    what: str,
    policy: HttpPolicy,
    expect_magic: bytes | None,
) -> None:
    """One request for the body (or its rest), with the session's retries; each failed HTTP attempt is one entry
    of `history`. Raises _CutShort when the body stopped early, _GaveUp when the session's retries are spent."""
    resume = body.size > 0 and body.validator is not None
    headers = {"Range": f"bytes={body.size}-", "If-Range": body.validator} if resume else {}
    try:
        response = session.get(
            url, stream=True, timeout=(policy.connect_timeout_s, policy.read_timeout_s), headers=headers
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        history.extend([f"connection failed: {type(exc).__name__}"] * policy.max_attempts)
        raise _GaveUp from exc
    with response:
        retries = getattr(response.raw, "retries", None)
        earlier = list(retries.history) if retries is not None else []
        history.extend(_failure(entry) for entry in earlier)
        status = response.status_code
        if status in RETRYABLE_STATUS:
            history.append(f"HTTP {status}")
            raise _GaveUp
        if status == 404:
            raise SourceError(f"{what}: not found at the source (HTTP 404) - not published (yet)? URL: {url}")
        if status == 416 and resume:
            history.append(f"HTTP 416 for bytes {body.size}-")
            body.restart()
            raise _CutShort
        if status not in (200, 206) or (status == 206 and not resume):
            raise SourceError(f"{what}: unexpected HTTP {status} from {url}: {response.text[:200]!r}")
        content_type = response.headers.get("Content-Type", "")
        if "text/html" in content_type.lower():
            raise SourceError(
                f"{what}: the server answered 200 with an HTML page (Content-Type {content_type!r}) instead "
                f"of the file; expected {'a 7z archive' if expect_magic else 'data'}. URL: {url}"
            )
        if status == 206:
            mismatch = _range_mismatch(response.headers.get("Content-Range", ""), body)
            if mismatch:
                history.append(mismatch)
                body.restart()
                raise _CutShort
            body.resumed = True
        else:
            # A full answer: the first, or the server did not honour Range (or the file changed: If-Range).
            body.restart()
            length = response.headers.get("Content-Length")
            body.total = int(length) if length is not None and length.isdigit() else None
            body.validator = _validator(response.headers)
            body.headers = {
                k: response.headers[k]
                for k in ("Content-Type", "Content-Length", "Last-Modified", "ETag")
                if k in response.headers
            }
        try:
            body.append(response.iter_content(READ_BYTES))
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, requests.Timeout) as exc:
            history.append(f"body cut off after {body.size} bytes ({type(exc).__name__})")
            _keep_or_restart(body)
            raise _CutShort from exc
        if body.total is not None and body.size != body.total:
            history.append(f"body truncated: {body.size} of {body.total} bytes")
            _keep_or_restart(body)
            raise _CutShort
        if looks_like_html(body.head):
            raise SourceError(
                f"{what}: the server answered 200 with an HTML page instead of the file "
                f"(body starts {body.head[:40]!r}). URL: {url}"
            )
        if expect_magic is not None and not body.head.startswith(expect_magic):
            raise SourceError(
                f"{what}: downloaded body does not start with the expected signature {expect_magic!r} "
                f"(starts {body.head[:16]!r}); not a valid file of this kind. URL: {url}"
            )


def _keep_or_restart(body: _Body) -> None:
    """What arrived is kept for a resume only when a resume can be verified: the size is known and the server
    named the version (If-Range); otherwise the next attempt starts again."""
    if body.total is None or body.validator is None:
        body.restart()


def _range_mismatch(content_range: str, body: _Body) -> str | None:
    """Why a 206 answer cannot be spliced onto what we hold, or None when it can."""
    match = _CONTENT_RANGE.match(content_range.strip())
    if not match or int(match.group(1)) != body.size:
        return f"asked for bytes {body.size}- and got Content-Range {content_range!r}"
    if match.group(3) != "*" and body.total is not None and int(match.group(3)) != body.total:
        return f"the file's size changed from {body.total} to {match.group(3)} bytes between two requests"
    return None
