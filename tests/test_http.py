"""Downloads against a local server speaking Eurostat's URL layout, misbehaving the ways real servers do."""

from __future__ import annotations

import hashlib
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from urllib3.util.retry import Retry

from orchestration.demo.eurostat import EurostatFileServer
from orchestration.lib.errors import SourceError
from orchestration.lib.http import READ_BYTES, download_file, new_session, parse_retry_after
from orchestration.lib.sources.comext.facts import SEVEN_ZIP_MAGIC, describe, month_file_name, month_url
from tests.conftest import FAST_HTTP, SAMPLE_COMEXT, copy_sample

PERIOD = "202201"
NAME = month_file_name(PERIOD)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def served(served_dir: Path, eurostat: EurostatFileServer) -> EurostatFileServer:
    copy_sample(served_dir, PERIOD)
    return eurostat


def fetch(server: EurostatFileServer, dest_dir: Path, sleeps: Sleeps, policy=FAST_HTTP, period: str = PERIOD):
    return download_file(
        new_session(policy, sleep=sleeps),
        month_url(server.base_url, period),
        dest_dir / month_file_name(period),
        what=describe(period),
        policy=policy,
        expect_magic=SEVEN_ZIP_MAGIC,
        sleep=sleeps,
    )


def expected_sha() -> str:
    return hashlib.sha256((SAMPLE_COMEXT / NAME).read_bytes()).hexdigest()


def test_clean_download_is_complete_and_hashed(served: EurostatFileServer, dest: Path) -> None:
    got = fetch(served, dest, Sleeps())
    assert got.sha256 == expected_sha() == hashlib.sha256(got.path.read_bytes()).hexdigest()
    assert got.size_bytes == (SAMPLE_COMEXT / NAME).stat().st_size
    assert got.attempts == 1
    assert "Last-Modified" in got.headers
    assert served.requests == [f"/eurostat/api/dissemination/files?file=comext%2FCOMEXT_DATA%2FPRODUCTS%2F{NAME}"]


def test_429_waits_as_long_as_retry_after_says(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "429:3")
    sleeps = Sleeps()
    got = fetch(served, dest, sleeps)
    assert sleeps == [3.0]
    assert got.attempts == 2 and got.sha256 == expected_sha()


def test_5xx_backs_off_exponentially_then_succeeds(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "503", "500")
    sleeps = Sleeps()
    got = fetch(served, dest, sleeps)
    assert sleeps == [FAST_HTTP.backoff_base_s, FAST_HTTP.backoff_base_s * 2]
    assert got.attempts == 3 and got.sha256 == expected_sha()


def test_gives_up_with_a_clear_error_and_leaves_nothing(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "503", "503", "503")
    with pytest.raises(SourceError) as err:
        fetch(served, dest, Sleeps())
    message = str(err.value)
    assert message.startswith(f"Comext 2022-01 {NAME}: gave up after 3 attempts")
    assert message.endswith("failures: HTTP 503 (3 times)"), "the same failure once, with its count"
    assert list(dest.iterdir()) == [], "no partial or final file may remain"


def test_different_failures_are_each_named_in_their_order(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "503", "503", "502")
    with pytest.raises(SourceError) as err:
        fetch(served, dest, Sleeps())
    assert str(err.value).endswith("failures: HTTP 503 (2 times); HTTP 502")


def test_truncated_body_is_retried_and_never_kept(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "truncate")
    got = fetch(served, dest, Sleeps())
    assert got.attempts == 2 and got.sha256 == expected_sha()
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


def test_always_truncated_body_fails(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "truncate", "truncate", "truncate")
    with pytest.raises(SourceError, match=r"gave up after 3 attempts.*(cut off|truncated)"):
        fetch(served, dest, Sleeps())
    assert list(dest.iterdir()) == []


def test_html_page_with_status_200_is_an_error_not_data(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "html200")
    with pytest.raises(SourceError, match=r"Comext 2022-01 .*answered 200 with an HTML page"):
        fetch(served, dest, Sleeps())
    assert len(served.requests) == 1, "an HTML answer is not retried blindly"


def test_html_body_behind_a_binary_content_type_is_caught(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "wrongtype")
    with pytest.raises(SourceError, match="HTML page instead of the file"):
        fetch(served, dest, Sleeps())
    assert list(dest.iterdir()) == []


def test_missing_month_is_a_404_error(served: EurostatFileServer, dest: Path) -> None:
    with pytest.raises(SourceError, match=r"Comext 2030-01 full_v2_203001.7z: not found at the source \(HTTP 404\)"):
        fetch(served, dest, Sleeps(), period="203001")


def test_retry_after_beyond_our_limit_gives_up_at_once(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "429:600")
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="asked us to wait 600s"):
        fetch(served, dest, sleeps)
    assert sleeps == []


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(SourceError, match=r"gave up after 3 attempts.*connection failed"):
        download_file(
            new_session(FAST_HTTP, sleep=sleeps),
            f"http://127.0.0.1:{port}/x.7z",
            tmp_path / "x.7z",
            what="Comext 2022-01 x.7z",
            policy=FAST_HTTP,
            sleep=sleeps,
        )
    assert len(sleeps) == 2


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(90)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None


def test_a_body_cut_short_is_resumed_with_range_and_verified(served: EurostatFileServer, dest: Path) -> None:
    size = (SAMPLE_COMEXT / NAME).stat().st_size
    served.inject(NAME, "truncate")  # sends half of the file, then closes the connection
    got = fetch(served, dest, Sleeps())
    assert got.attempts == 2
    assert got.sha256 == expected_sha() == hashlib.sha256(got.path.read_bytes()).hexdigest()
    assert got.size_bytes == size
    first, resume = served.request_headers
    assert "Range" not in first
    held = int(resume["Range"].removeprefix("bytes=").removesuffix("-"))
    assert size // 2 - READ_BYTES < held <= size // 2, "only the missing rest is asked for"
    assert resume["If-Range"] == got.headers["Last-Modified"], "and only if the file is still the same version"


def test_a_resume_the_server_answers_whole_starts_again(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "truncate", "norange")
    got = fetch(served, dest, Sleeps())
    assert served.request_headers[1]["Range"].startswith("bytes=")
    assert got.attempts == 2 and got.sha256 == expected_sha()
    assert got.size_bytes == (SAMPLE_COMEXT / NAME).stat().st_size, "the whole answer replaces the part, not appended"


def test_a_resume_cut_short_again_is_resumed_again(served: EurostatFileServer, dest: Path) -> None:
    served.inject(NAME, "truncate", "truncate")
    got = fetch(served, dest, Sleeps())
    assert got.attempts == 3 and got.sha256 == expected_sha()
    starts = [int(h.get("Range", "bytes=0-")[6:-1]) for h in served.request_headers]
    assert starts[0] == 0 < starts[1] <= starts[2] < got.size_bytes, "each resume asks from what it holds"


def test_the_stand_in_answers_ranges_as_eurostat_does(served: EurostatFileServer) -> None:
    data = (SAMPLE_COMEXT / NAME).read_bytes()
    url = month_url(served.base_url, PERIOD)
    whole = requests.get(url, timeout=10)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    part = requests.get(url, headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert part.content == data[100:]
    stale = requests.get(url, headers={"Range": "bytes=100-", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"}, timeout=10)
    assert stale.status_code == 200 and stale.content == data, "another version: the whole file"
    past = requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=10)
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"


def test_the_session_retries_with_urllib3_as_the_policy_says() -> None:
    retry = new_session(FAST_HTTP).get_adapter("https://ec.europa.eu/").max_retries
    assert isinstance(retry, Retry)
    assert retry.total == FAST_HTTP.max_attempts - 1
    assert {429, 500, 502, 503, 504} <= set(retry.status_forcelist)
    assert retry.respect_retry_after_header and not retry.raise_on_status
