"""What a new user meets: the offline demo (the README's main job), the README's worked answers, the publication's
HTML report in a real browser, `mirror-trade sql` and `docs`, and a DuckDB 1.x client opening the warehouse."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import REPO_ROOT

pytestmark = pytest.mark.e2e

MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))
SECTION = re.compile(r"### Five worked questions\n(.*?)\n## ", re.S)
QUESTION = re.compile(r"```sql\n(.*?)\n```\n\n((?:\|[^\n]*\|\n)+)", re.S)
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "artifacts"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_TRADE_", "COMTRADE_"))}
    env |= {"MIRROR_TRADE_HOME": str(home), "MIRROR_TRADE_DEMO_OFFLINE": "1", "DAGSTER_HOME": str(home / "dagster")}
    result = subprocess.run([MIRROR_TRADE, "demo"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "published publication 1 with 18 months" in result.stdout
    yield {"home": home, "env": env, "warehouse": home / "published" / "warehouse.duckdb"}


def cli(demo: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MIRROR_TRADE, *args], env=demo["env"], capture_output=True, text=True, timeout=600, check=False
    )


def worked_questions() -> list[tuple[str, str]]:
    section = SECTION.search((REPO_ROOT / "README.md").read_text())
    assert section, "README has a 'Five worked questions' section"
    found = QUESTION.findall(section.group(1))
    assert len(found) == 5
    return found


def test_offline_demo_answers_the_readme_questions(demo: dict) -> None:
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        for sql, table in worked_questions():
            got = con.sql(sql).df().to_markdown(index=False, disable_numparse=True)
            assert got.strip() == table.strip(), f"README answer out of date for:\n{sql}"


def test_report_renders_in_a_real_browser(demo: dict) -> None:
    from playwright.sync_api import sync_playwright

    report = demo["home"] / "published" / "report.html"
    assert report.exists(), "the publication writes its report next to it"
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (.ci/run installs it: apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requests: list[str] = []
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report.as_uri())
        assert page.locator("script[src], link[href]").count() == 0, "self-contained: nothing to fetch"
        for chart in ("chart-eu-vs-baseline", "chart-mirror-gap", "chart-chp-tiers"):
            page.wait_for_selector(f"#{chart} .main-svg", timeout=30_000)
            assert page.locator(f"#{chart} g.trace").count() > 0, f"{chart} drew no data"
        assert page.locator("#signals tbody tr").count() > 0
        assert page.locator("#coverage tbody tr").count() == 3
        assert page.locator("#checks tbody tr").count() > 10
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests


def test_report_command_writes_a_chosen_month(demo: dict, tmp_path: Path) -> None:
    out = tmp_path / "may.html"
    result = cli(demo, "report", "--period", "2022-05", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Top circumvention signals, 2022-05" in out.read_text()


def test_sql_prints_exports_and_never_writes(demo: dict, tmp_path: Path) -> None:
    query = "SELECT partner, count(*) AS n FROM marts.fct_eu_exports GROUP BY 1 ORDER BY 1"
    printed = cli(demo, "sql", query)
    assert printed.returncode == 0 and "KG" in printed.stdout and "│" in printed.stdout
    out = tmp_path / "n.csv"
    assert cli(demo, "sql", query, "--csv", str(out)).returncode == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "partner,n" and len(lines) == 8
    parquet = tmp_path / "n.parquet"
    assert cli(demo, "sql", query, "--parquet", str(parquet)).returncode == 0
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall() == [(7,)]
    before = demo["warehouse"].read_bytes()
    refused = cli(demo, "sql", "DELETE FROM marts.fct_eu_exports")
    assert refused.returncode == 1 and "read-only" in refused.stderr
    assert demo["warehouse"].read_bytes() == before


def test_docs_build_the_data_dictionary(demo: dict) -> None:
    result = cli(demo, "docs", "--no-serve")
    assert result.returncode == 0, result.stdout[-2000:]
    assert (demo["home"] / "docs" / "index.html").exists()
    assert "fct_mirror_flows" in (demo["home"] / "docs" / "catalog.json").read_text()


def test_every_command_has_help_with_an_example() -> None:
    for command in ("run", "demo", "nightly", "report", "sql", "docs", "serve-sample"):
        result = subprocess.run([MIRROR_TRADE, command, "--help"], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and "example" in result.stdout and "mirror-trade " + command in result.stdout


def test_duckdb_1x_clients_can_open_the_publication(demo: dict, tmp_path: Path) -> None:
    env_dir = tmp_path / "duckdb1"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "duckdb==1.1.3"], capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr[-1000:]
    script = (
        "import duckdb; c = duckdb.connect(__import__('sys').argv[1], read_only=True); "
        "print(duckdb.__version__, c.sql('SELECT count(*) FROM marts.fct_mirror_flows').fetchall()[0][0])"
    )
    result = subprocess.run([str(python), "-c", script, str(demo["warehouse"])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    version, rows = result.stdout.split()
    assert version == "1.1.3" and int(rows) > 0
