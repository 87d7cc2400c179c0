"""Polite, resumable-safe file downloads with `requests`.

A download streams into a `.part` file beside its destination, hashing as it goes; only a complete body
(length matches Content-Length, expected magic bytes, not an HTML page) is renamed into place. A crash
mid-download leaves only a `.part` file, which nothing ever counts as data.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from orchestration.lib.config import HttpPolicy
from orchestration.lib.errors import SourceError

USER_AGENT = "mirror-trade/0.1 (+https://github.com/mirror-trade; open-source trade statistics pipeline)"
CHUNK_BYTES = 1 << 20
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


class _Retryable(Exception):
    def __init__(self, reason: str, wait_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


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


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


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
    """Stream `url` into `dest` atomically. `what` names source, period and file for every error message."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    history: list[str] = []
    for attempt in range(1, policy.max_attempts + 1):
        try:
            result = _attempt(session, url, part, what=what, policy=policy, expect_magic=expect_magic)
        except _Retryable as retry:
            part.unlink(missing_ok=True)
            history.append(retry.reason)
            if attempt == policy.max_attempts:
                break
            wait = retry.wait_s if retry.wait_s is not None else policy.backoff_base_s * 2 ** (attempt - 1)
            if wait > policy.max_wait_s:
                raise SourceError(
                    f"{what}: server asked us to wait {wait:.0f}s ({retry.reason}), more than the "
                    f"{policy.max_wait_s:.0f}s we allow (MIRROR_TRADE_HTTP_MAX_WAIT); giving up on {url}"
                ) from None
            if log:
                log(f"{what}: attempt {attempt} failed ({retry.reason}); retrying in {wait:.1f}s")
            sleep(wait)
            continue
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, dest)
        sha256, size, headers = result
        return Download(
            path=dest,
            url=url,
            sha256=sha256,
            size_bytes=size,
            retrieved_at=datetime.now(UTC),
            attempts=attempt,
            headers=headers,
        )
    raise SourceError(
        f"{what}: gave up after {policy.max_attempts} attempts to download {url}; failures: {_collapsed(history)}"
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


def _attempt(
    session: requests.Session,
    url: str,
    part: Path,
    *,
    what: str,
    policy: HttpPolicy,
    expect_magic: bytes | None,
) -> tuple[str, int, dict[str, str]]:
    try:
        response = session.get(url, stream=True, timeout=(policy.connect_timeout_s, policy.read_timeout_s))
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Retryable(f"connection failed: {type(exc).__name__}") from exc
    with response:
        status = response.status_code
        if status in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After")))
        if status == 404:
            raise SourceError(f"{what}: not found at the source (HTTP 404) - not published (yet)? URL: {url}")
        if status != 200:
            raise SourceError(f"{what}: unexpected HTTP {status} from {url}: {response.text[:200]!r}")
        content_type = response.headers.get("Content-Type", "")
        if "text/html" in content_type.lower():
            raise SourceError(
                f"{what}: the server answered 200 with an HTML page (Content-Type {content_type!r}) instead "
                f"of the file; expected {'a 7z archive' if expect_magic else 'data'}. URL: {url}"
            )
        expected_len = response.headers.get("Content-Length")
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with open(part, "wb") as out:
                for chunk in response.iter_content(CHUNK_BYTES):
                    if len(head) < 512:
                        head += chunk[: 512 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, requests.Timeout) as exc:
            raise _Retryable(f"body cut off after {size} bytes ({type(exc).__name__})") from exc
        if expected_len is not None and expected_len.isdigit() and int(expected_len) != size:
            raise _Retryable(f"body truncated: {size} of {expected_len} bytes")
        if looks_like_html(head):
            raise SourceError(
                f"{what}: the server answered 200 with an HTML page instead of the file "
                f"(body starts {head[:40]!r}). URL: {url}"
            )
        if expect_magic is not None and not head.startswith(expect_magic):
            raise SourceError(
                f"{what}: downloaded body does not start with the expected signature {expect_magic!r} "
                f"(starts {head[:16]!r}); not a valid file of this kind. URL: {url}"
            )
        headers = {
            k: response.headers[k]
            for k in ("Content-Type", "Content-Length", "Last-Modified", "ETag")
            if k in response.headers
        }
        return digest.hexdigest(), size, headers
