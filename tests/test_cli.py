"""What a first user meets at the command line: the real `mirror-trade` console script in a subprocess, against
real local HTTP servers or closed ports, in a fresh MIRROR_TRADE_HOME."""

from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.demo.comtrade import ComtradeServer
from orchestration.demo.ecb import EcbServer
from orchestration.demo.eurostat import EurostatFileServer
from tests import partner_data
from tests.conftest import copy_sample

MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))
ANSI = re.compile(r"\x1b\[")


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_TRADE_", "COMTRADE_", "DAGSTER_"))}
    return env | {"MIRROR_TRADE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}


def offline_env(home: Path) -> dict[str, str]:
    """Every source URL at a closed port, retries without waiting."""
    dead = f"http://127.0.0.1:{closed_port()}"
    return base_env(home) | {
        "MIRROR_TRADE_COMEXT_URL": f"{dead}/eurostat",
        "MIRROR_TRADE_COMTRADE_URL": f"{dead}/comtrade",
        "MIRROR_TRADE_ECB_URL": f"{dead}/ecb",
        "MIRROR_TRADE_HTTP_MAX_ATTEMPTS": "2",
        "MIRROR_TRADE_HTTP_BACKOFF": "0.01",
        "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
    }


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([MIRROR_TRADE, *args], env=env, capture_output=True, text=True, timeout=timeout)


def next_month() -> str:
    now = datetime.now(UTC)
    return f"{now.year + 1}-01" if now.month == 12 else f"{now.year}-{now.month + 1:02d}"


# 2. offline: one paragraph naming the source, never a traceback


def test_nightly_offline_names_the_source_in_one_paragraph(tmp_path: Path) -> None:
    env = offline_env(tmp_path / "home")

    result = cli(env, "nightly", timeout=120)

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    paragraph = " ".join(result.stderr.split())
    assert paragraph.startswith("mirror-trade nightly: the release check failed: Comext listing: ConnectionError")
    assert env["MIRROR_TRADE_COMEXT_URL"] in paragraph, "names what was tried"
    assert "MIRROR_TRADE_COMEXT_URL" in paragraph and "nothing was run or published" in paragraph
    assert len(result.stderr.strip().split("\n\n")) == 1, "one paragraph"


# 3. months that cannot exist yet; FAILED when every source failed; repeated errors collapsed


def test_a_month_after_the_current_one_is_refused_before_anything_is_tried(tmp_path: Path) -> None:
    home = tmp_path / "home"
    month = next_month()

    result = cli(offline_env(home), "run", "--start", month, "--end", month, timeout=120)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{month} is after the current month ({datetime.now(UTC):%Y-%m})" in result.stderr
    assert result.stderr.startswith("mirror-trade run: ")
    assert not home.exists(), "no lock taken, no source asked"


@pytest.fixture(scope="module")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A home with 2022-01 published from local servers (Comext sample month, synthetic partner side)."""
    root = tmp_path_factory.mktemp("cli")
    served = root / "served"
    served.mkdir()
    copy_sample(served, "202201")
    records, availability = partner_data.world({"202201": 1})
    with (
        EurostatFileServer(served) as eurostat,
        ComtradeServer(records, availability) as comtrade,
        EcbServer(partner_data.RATES) as ecb,
    ):
        env = base_env(root / "home") | {
            "MIRROR_TRADE_COMEXT_URL": eurostat.base_url,
            "MIRROR_TRADE_COMTRADE_URL": comtrade.base_url,
            "MIRROR_TRADE_COMTRADE_REPORTERS": "KZ,AM",
            "MIRROR_TRADE_COMTRADE_MIN_INTERVAL": "0",
            "MIRROR_TRADE_ECB_URL": ecb.base_url,
        }
        result = cli(env, "run", "--start", "2022-01", "--end", "2022-01")
    yield {"home": root / "home", "result": result}


def test_default_output_is_one_line_per_stage_and_month_without_colour(published_home: dict) -> None:
    result = published_home["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert not ANSI.search(out + result.stderr), "no colour codes when the output is not a terminal"
    lines = out.splitlines()
    for expected in ("comext 2022-01: loaded", "comtrade 2022-01: loaded", "ecb 2022-01..2022-01: 1 monthly rates"):
        assert sum(line.strip().startswith(expected) for line in lines) == 1, expected
    assert any(line.strip().startswith("dbt build 2022-01..2022-01: started") for line in lines)
    assert any(re.search(r"dbt build 2022-01..2022-01: \d+ models built, \d+ tests run", line) for line in lines)
    assert any(line.strip().startswith("check gx_fct_eu_exports: passed (2022-01)") for line in lines)
    assert "published publication 1 with 1 months" in lines[-1]
    assert " START " not in out and " PASS " not in out, "dbt's own lines only with --verbose"
    assert " - dagster - " not in out + result.stderr, "the Dagster log only with --verbose"
    assert len(lines) < 30


def test_every_source_failing_is_FAILED_with_each_error_once(published_home: dict) -> None:
    home = published_home["home"]
    warehouse = home / "published" / "warehouse.duckdb"
    before = warehouse.read_bytes()

    result = cli(offline_env(home), "run", "--start", "2022-01", "--end", "2022-01")

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert not ANSI.search(result.stdout + result.stderr)
    paragraph = " ".join(result.stderr.split())
    assert " FAILED " in paragraph and "PARTLY FAILED" not in paragraph
    assert "no source could be fetched" in paragraph
    for source in ("raw/comext_monthly", "raw/comtrade_monthly", "raw/ecb_exchange_rates"):
        assert paragraph.count(f"{source} unavailable") == 1, source
    assert paragraph.count("gave up after 2 attempts") == 3
    assert "connection failed: ConnectionError (2 times)" in paragraph
    if warehouse.read_bytes() == before:
        assert "source_coverage" not in paragraph, "no claim about a publication that did not happen"
        assert f"the warehouse at {warehouse} is unchanged" in paragraph
    else:
        assert "published publication 2" in paragraph


def test_a_failed_run_spanning_months_collapses_the_same_error_into_one_line(tmp_path: Path) -> None:
    # A `tail` that copies nothing: the run's output must reach the terminal without Dagster's compute-log mirror
    # (it copies captured output back with `tail -F`, which may deliver late or not at all).
    silent = tmp_path / "bin"
    silent.mkdir()
    (silent / "tail").write_text("#!/bin/sh\nexit 0\n")
    (silent / "tail").chmod(0o755)
    env = offline_env(tmp_path / "home")
    env["PATH"] = f"{silent}{os.pathsep}{env.get('PATH', '')}"

    result = cli(env, "run", "--start", "2022-01", "--end", "2022-03", "--verbose")

    assert result.returncode == 1
    assert " START " in result.stdout and " - dagster - " in result.stderr, (
        "--verbose: dbt's lines, the Dagster log\n" + result.stdout[-2000:] + "\n" + result.stderr[-4000:]
    )
    dbt_log = re.search(r"dbt's own log of this run is (\S+)\.\s*$", " ".join(result.stderr.split()))
    assert dbt_log and Path(dbt_log.group(1)).is_file() and " START " in Path(dbt_log.group(1)).read_text()
    assert not ANSI.search(result.stdout + result.stderr)
    paragraph = " ".join(result.stderr.split("\n\n")[-1].split())
    assert "FAILED" in paragraph and "PARTLY" not in paragraph
    assert "nothing was published (there is no published warehouse yet)" in paragraph.lower()
    assert "raw/comext_monthly unavailable for 3 months (202201, 202202, 202203), all failing the same way" in (
        paragraph
    )
    assert paragraph.count("Comext 2022-0") == 1, "the error is shown once, not once per month"
    assert "source_coverage" not in paragraph


# 4. the offline demo keeps to its sample


def test_offline_demo_refuses_months_outside_its_sample(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = base_env(home) | {"MIRROR_TRADE_DEMO_OFFLINE": "1"}

    result = cli(env, "demo", "--start", "2019-01", "--end", "2019-02", timeout=120)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    paragraph = " ".join(result.stderr.split())
    assert paragraph.startswith("mirror-trade demo: ")
    assert "covers 2021-01..2022-06" in paragraph and "2019-01..2019-02" in paragraph
    assert not (home / "published").exists()


def test_demo_reports_its_errors_as_demo(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home") | {"MIRROR_TRADE_DEMO_OFFLINE": "1"}

    result = cli(env, "demo", "--start", "2022-05", "--end", "2022-01", timeout=120)

    assert result.returncode == 2
    assert result.stderr.strip() == "mirror-trade demo: --end 2022-01 is before --start 2022-05"


# 5. the lock is taken before Dagster and dbt are imported


def test_a_second_run_is_refused_by_the_lock_before_dagster_is_imported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = offline_env(home) | {"PYTHONPROFILEIMPORTTIME": "1"}
    with open(home / "run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        result = cli(env, "run", "--start", "2022-01", "--end", "2022-01", timeout=120)
        assert (home / "run.lock").read_text() == "4242", "the refused run leaves the holder's pid in place"

    assert result.returncode == 3
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert "orchestration.cli" in imported, "PYTHONPROFILEIMPORTTIME reports the imports"
    assert not [m for m in imported if m.split(".")[0] in {"dagster", "dagster_dbt", "dbt", "duckdb"}]
    message = " ".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))
    assert f"another mirror-trade run holds {home / 'run.lock'} (pid 4242); not starting" in message


# 7. the command line itself: typed, validated, described


def test_every_option_of_every_command_is_described() -> None:
    import typer

    from orchestration.cli import app

    group = typer.main.get_command(app)
    assert set(group.commands) == {"run", "demo", "nightly", "serve-sample", "report", "sql", "docs"}
    for name, command in group.commands.items():
        assert command.help, name
        assert "example" in (command.epilog or ""), name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help text"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["serve-sample", "--port", "99999"],
            "mirror-trade serve-sample: Invalid value for '--port': 99999 is outside 0..65535",
        ),
        (["docs", "--port", "http"], "mirror-trade docs: Invalid value for '--port': 'http' is not a whole number"),
        (["sql", "SELECT 1; SELECT 2"], "mirror-trade sql: expected one SQL statement, got 2"),
        (["sql", "SELECT 1", "--max-rows", "0"], "mirror-trade sql: Invalid value for '--max-rows': 0 is outside 1.."),
        (
            ["run", "--start", "2022-13", "--end", "2022-12"],
            "mirror-trade run: Invalid value for '--start': '2022-13' is not a month",
        ),
        (["run", "--start", "2018-12", "--end", "2019-01"], "Comext partitions start at 2019-01"),
        (["report", "--period", "May"], "mirror-trade report: Invalid value for '--period': 'May' is not a month"),
        (["runn"], "mirror-trade: No such command 'runn'"),
    ],
)
def test_bad_input_is_refused_in_one_line_with_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = cli(base_env(tmp_path / "home"), *args, timeout=60)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert result.stdout == ""


def test_serve_sample_serves_the_sample_and_names_a_busy_port(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home")
    server = subprocess.Popen([MIRROR_TRADE, "serve-sample", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:(\d+)\S*)", first)
        assert url, first
        port = int(url.group(2))
        archive = f"{url.group(1)}?file=comext%2FCOMEXT_DATA%2FPRODUCTS%2Ffull_v2_202201.7z"
        with urllib.request.urlopen(archive, timeout=30) as response:
            assert response.read(6) == b"7z\xbc\xaf\x27\x1c"

        busy = cli(env, "serve-sample", "--port", str(port), timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert busy.returncode == 1
    assert "Traceback" not in busy.stderr
    assert f"cannot serve the Comext sample on 127.0.0.1:{port}" in " ".join(busy.stderr.split())


# 11. the data dictionary opens from the file system


def test_docs_no_serve_writes_a_static_page_that_opens_from_the_file_system(tmp_path: Path) -> None:
    home = tmp_path / "home"

    result = cli(base_env(home), "docs", "--no-serve")

    assert result.returncode == 0, result.stderr[-2000:]
    static = home / "docs" / "static_index.html"
    assert f"data dictionary in {static}" in result.stdout and static.as_uri() in result.stdout
    page = static.read_text()
    assert "fct_mirror_flows" in page, "the manifest is inlined: no fetch of manifest.json from a server"
    assert not re.search(r"<script[^>]+src=", page)


def test_a_setting_that_is_not_a_number_is_named_without_a_traceback(tmp_path: Path) -> None:
    env = offline_env(tmp_path / "home") | {"MIRROR_TRADE_HTTP_MAX_ATTEMPTS": "five"}

    result = cli(env, "nightly", timeout=60)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "mirror-trade nightly: MIRROR_TRADE_HTTP_MAX_ATTEMPTS='five' is not a number" in " ".join(
        result.stderr.split()
    )
