"""What a new user meets: the offline demo (the README's main job), the README's worked answers, the publication's
HTML report in a real browser, `mirror-trade sql` and `docs`, and a DuckDB 1.x client opening the warehouse."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import venv
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import py7zr
import pytest

from orchestration.lib.config import REPO_ROOT

pytestmark = pytest.mark.e2e

MIRROR_TRADE = str(Path(sys.executable).with_name("mirror-trade"))
SECTION = re.compile(r"### Worked questions\n(.*?)\n## ", re.S)
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
    assert section, "README has a 'Worked questions' section"
    found = QUESTION.findall(section.group(1))
    assert len(found) == 8
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
        assert page.locator("#synthetic-banner").is_visible(), "the offline demo's synthetic partner side is flagged"
        # every table fits the page: no horizontal scrolling, the score and the reason of each signal in view
        width = page.evaluate("document.documentElement.clientWidth")
        overflowing = page.evaluate(
            """() => {
                   document.querySelectorAll('details').forEach(d => { d.open = true; });
                   const page = document.documentElement.clientWidth;
                   return [...document.querySelectorAll('table')]
                       .filter(t => t.offsetParent !== null && t.getBoundingClientRect().right > page + 1)
                       .map(t => t.id);
               }"""
        )
        assert overflowing == [], f"tables wider than the {width}px page: {overflowing}"
        score = page.locator("#signals thead th", has_text="score")
        assert score.count() == 1 and score.is_visible()
        box = score.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests


def test_report_command_writes_a_chosen_month(demo: dict, tmp_path: Path) -> None:
    out = tmp_path / "may.html"
    result = cli(demo, "report", "--period", "2022-05", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Top circumvention signals, 12 months to 2022-05" in out.read_text()


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


TRANSIT_IN_SAMPLE = ("AM", "GE", "KG", "KZ", "UZ")
CENT = Decimal("0.01")


def _sample_exports(tmp: Path) -> dict[tuple[str, str, str], Decimal]:
    """(YYYYMM, partner, hs6) -> EUR, summed straight from the bundled raw Comext archives."""
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for archive in sorted((REPO_ROOT / "sample_data" / "comext").glob("full_v2_*.7z")):
        with py7zr.SevenZipFile(archive) as z:
            z.extractall(tmp / archive.stem)
        (member,) = (tmp / archive.stem).iterdir()
        with open(member, newline="") as fh:
            for row in csv.DictReader(fh):
                if row["FLOW"] == "2" and row["TRADE_TYPE"] == "E" and "X" not in row["PRODUCT_NC"]:
                    out[(row["PERIOD"], row["PARTNER"], row["PRODUCT_NC"][:6])] += Decimal(row["VALUE_EUR"])
    return out


def _codes(con: duckdb.DuckDBPyConnection, key: str) -> tuple[list[str], list[str]]:
    return con.execute(
        "SELECT hs2017_codes, hs2022_codes FROM marts.dim_products WHERE product_key = ? LIMIT 1", [key]
    ).fetchone()


def _key_sum(exports: dict, period: str, partners: tuple[str, ...], codes: list[str]) -> Decimal:
    return sum((exports.get((period, p, c), Decimal(0)) for p in partners for c in codes), Decimal(0))


def test_substitution_and_unrecorded_rows_recomputed_from_the_raw_files_agree_to_the_cent(
    demo: dict, tmp_path: Path
) -> None:
    """fct_substitution (EUR, Comext) and fct_unrecorded_exports (USD, Comext x ECB x 1.06 against Comtrade) for 2022,
    each month against the same month of 2021 (the sample's one baseline year), rebuilt from the raw downloads."""
    exports = _sample_exports(tmp_path)
    months = [f"2022{m:02d}" for m in range(1, 7)]
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        keys = [
            r[0]
            for r in con.execute(
                """SELECT product_key FROM marts.fct_substitution WHERE year = 2022 AND substitution_ratio IS NOT NULL
                   ORDER BY direct_fall_eur DESC LIMIT 3"""
            ).fetchall()
        ] + ["854151+854159"]
        for key in keys:
            hs2017, hs2022 = _codes(con, key)
            direct = sum(_key_sum(exports, m, ("RU", "BY"), hs2022) for m in months)
            base_direct = sum(_key_sum(exports, f"2021{m[4:]}", ("RU", "BY"), hs2017) for m in months)
            transit = sum(_key_sum(exports, m, TRANSIT_IN_SAMPLE, hs2022) for m in months)
            base_transit = sum(_key_sum(exports, f"2021{m[4:]}", TRANSIT_IN_SAMPLE, hs2017) for m in months)
            row = con.execute(
                """SELECT months_compared, eu_to_russia_belarus_eur, baseline_eu_to_russia_belarus_eur,
                          eu_to_transit_eur, baseline_eu_to_transit_eur, substitution_ratio
                   FROM marts.fct_substitution WHERE year = 2022 AND product_key = ?""",
                [key],
            ).fetchone()
            assert row[:5] == (6, direct, base_direct, transit, base_transit), key
            if base_direct > direct:
                assert row[5] == pytest.approx(float((transit - base_transit) / (base_direct - direct)), abs=1e-6)
            else:
                assert row[5] is None

        rates = {}
        for path in (demo["home"] / "raw" / "ecb").glob("*/*/*.csv"):
            with open(path, newline="") as fh:
                rates |= {r["TIME_PERIOD"].replace("-", ""): Decimal(r["OBS_VALUE"]) for r in csv.DictReader(fh)}
        eu_m49 = {
            r[0]
            for r in con.execute(
                "SELECT comtrade_m49 FROM reference.country_codes "
                "WHERE eu_member_from IS NOT NULL AND eu_member_to IS NULL"
            ).fetchall()
        }
        key = "854231"
        for partner, m49 in (("KZ", 398), ("AM", 51)):
            partner_usd: dict[str, Decimal] = defaultdict(Decimal)
            for period in months + [f"2021{m[4:]}" for m in months]:
                rows: dict[tuple, dict[int, Decimal]] = defaultdict(dict)
                for path in (demo["home"] / "raw" / "comtrade" / period / str(m49)).glob("*/q-*.json"):
                    for rec in json.loads(path.read_text())["data"]:
                        if rec["flowCode"] == "M" and rec["cmdCode"] == key and rec["partnerCode"] in eu_m49:
                            rows[rec["partnerCode"]][rec["motCode"]] = Decimal(str(rec["primaryValue"]))
                # the total row (mode of transport 0) when there is one, else the mode-of-transport split summed
                partner_usd[period] = sum(
                    (split[0] if 0 in split else sum(split.values(), Decimal(0)) for split in rows.values()), Decimal(0)
                )

            def eu_usd_cif(period: str, codes: list[str], partner: str = partner) -> Decimal:
                eur = _key_sum(exports, period, (partner,), codes)
                return ((eur * rates[period]).quantize(CENT, ROUND_HALF_UP) * Decimal("1.06")).quantize(
                    CENT, ROUND_HALF_UP
                )

            eu = sum(eu_usd_cif(m, [key]) for m in months)
            base_eu = sum(eu_usd_cif(f"2021{m[4:]}", [key]) for m in months)
            imports = sum(partner_usd[m] for m in months)
            base_imports = sum(partner_usd[f"2021{m[4:]}"] for m in months)
            row = con.execute(
                """SELECT months_compared, eu_exports_usd_cif, baseline_eu_exports_usd_cif, partner_imports_usd,
                          baseline_partner_imports_usd, unrecorded_additional_usd, unrecorded_share
                   FROM marts.fct_unrecorded_exports WHERE year = 2022 AND partner_country = ? AND product_key = ?""",
                [partner, key],
            ).fetchone()
            unrecorded = (eu - base_eu) - (imports - base_imports)
            assert row[:6] == (6, eu, base_eu, imports, base_imports, unrecorded), partner
            if eu > base_eu:
                assert row[6] == pytest.approx(float(unrecorded / (eu - base_eu)), abs=1e-6)
            else:
                assert row[6] is None


def test_report_shows_the_measures_and_flags_synthetic_data(demo: dict) -> None:
    page = (demo["home"] / "published" / "report.html").read_text()
    assert 'id="synthetic-banner"' in page
    assert '<section id="routes">' in page
    for table in ("signals", "substitution", "unrecorded", "unit-values"):
        assert f'<table id="{table}">' in page
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        top = con.execute(
            "SELECT transit_country, product_key FROM marts.fct_circumvention_signals "
            "WHERE period = (SELECT max(period) FROM marts.fct_circumvention_signals) AND rank_in_month = 1"
        ).fetchone()
        early = con.execute(
            "SELECT count(*) FROM marts.fct_circumvention_signals WHERE period < '2022-01-01'"
        ).fetchone()
    assert f"{top[0]}, {top[1]} (" in page
    assert early == (0,)


def test_analyst_helper_reads_the_publication_as_polars_frames_read_only(demo: dict) -> None:
    import polars as pl

    from orchestration.lib.analyst import NoPublication, connect, frame, pandas_frame

    top = frame(
        "SELECT partner, sum(value_eur) AS eur FROM marts.fct_eu_exports WHERE period >= ? GROUP BY partner "
        "ORDER BY eur DESC",
        ["2022-01-01"],
        path=demo["warehouse"],
    )
    assert isinstance(top, pl.DataFrame)
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        expected = con.execute(
            "SELECT partner, sum(value_eur) FROM marts.fct_eu_exports WHERE period >= '2022-01-01' GROUP BY ALL "
            "ORDER BY 2 DESC"
        ).fetchall()
    assert list(top.iter_rows()) == expected
    assert pandas_frame("SELECT count(*) AS n FROM marts.dim_products", path=demo["warehouse"])["n"][0] > 10_000
    with connect(demo["warehouse"]) as con, pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE marts.x AS SELECT 1")
    with pytest.raises(NoPublication, match="no published warehouse"):
        frame("SELECT 1", path=demo["home"] / "nowhere.duckdb")


def test_every_mart_follows_the_naming_convention(demo: dict) -> None:
    """README, "Things to know": money is DECIMAL and named *_eur/*_usd, ratios and shares are DOUBLE with a
    *_null_reason beside them, baseline columns start with baseline_ (no baseline_start beside baseline_first_month)."""
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'marts'"
        ).fetchall()
    tables: dict[str, dict[str, str]] = defaultdict(dict)
    for table, column, kind in rows:
        tables[table][column] = kind
    problems = []
    for table, columns in tables.items():
        for column, kind in columns.items():
            if column.endswith(("_eur", "_usd")) and not kind.startswith("DECIMAL"):
                problems.append(f"{table}.{column} is money but {kind}")
            if column.endswith(("_ratio", "_share")) and kind != "DOUBLE":
                problems.append(f"{table}.{column} is a ratio but {kind}")
            if column in ("baseline_start", "baseline_end", "transit_to_eu_ratio", "present"):
                problems.append(f"{table}.{column} is an old name")
        if any(c.endswith(("_ratio", "_share")) for c in columns) and not any(
            c.endswith("_null_reason") for c in columns
        ):
            problems.append(f"{table} has ratios without a *_null_reason")
    assert len(tables) >= 18
    assert problems == []


def test_report_of_a_month_outside_the_publication_is_refused(demo: dict, tmp_path: Path) -> None:
    result = cli(demo, "report", "--period", "2019-03", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert "2019-03 is not in the publication" in result.stderr and "2021-01 to 2022-06" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "r.html").exists()


def _dbt_run(demo: dict, build: Path, target: Path, start: str, end: str, *command: str) -> str:
    env = demo["env"] | {"MIRROR_TRADE_BUILD_DB": str(build), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt_vars = json.dumps({"min_period": start, "max_period": end})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *(command or ("run",)), "--project-dir",
         str(REPO_ROOT / "dbt_project"), "--profiles-dir", str(REPO_ROOT / "dbt_project"), "--vars", dbt_vars,
         "--target-path", str(target), "--log-path", str(target)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def test_every_dbt_unit_test_passes(demo: dict, tmp_path: Path) -> None:
    """The pipeline's builds leave the unit tests out (they check the SQL's logic on hand-written rows: the same
    answer every night); they run here. dbt takes the input columns' types from the upstream relations, so every
    model is first built empty (`--empty`) over the demo's lake."""
    build, month = tmp_path / "unit.duckdb", "2022-06-01"
    empty = ("build", "--empty", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    _dbt_run(demo, build, tmp_path / "empty", month, month, *empty)
    _dbt_run(demo, build, tmp_path / "dbt", month, month, "test", "--select", "test_type:unit")
    declared = set(json.loads((tmp_path / "dbt" / "manifest.json").read_text())["unit_tests"])
    results = json.loads((tmp_path / "dbt" / "run_results.json").read_text())["results"]
    # the run also lists the project's on-run-start hook (an operation), which is not a test
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(declared) >= 16 and set(ran) == declared, f"not run: {sorted(declared - set(ran))}"
    assert set(ran.values()) == {"pass"}, {uid: status for uid, status in ran.items() if status != "pass"}


def _compile(demo: dict, executable: str, build: Path, target: Path, month: str, parse_dir: Path | None) -> str:
    env = demo["env"] | {"MIRROR_TRADE_BUILD_DB": str(build), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env = env | ({"MIRROR_TRADE_DBT_PARSE_DIR": str(parse_dir)} if parse_dir else {})
    dbt_vars = json.dumps({"min_period": month, "max_period": month})
    result = subprocess.run(
        [executable, "compile", "--project-dir", str(REPO_ROOT / "dbt_project"), "--profiles-dir",
         str(REPO_ROOT / "dbt_project"), "--vars", dbt_vars, "--target-path", str(target), "--log-path", str(target)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    return (target / "dbt.log").read_text()


def test_the_pipelines_dbt_parses_once_and_compiles_what_dbt_compiles(demo: dict, tmp_path: Path) -> None:
    """mirror-trade-dbt (the dbt of every pipeline run) parses without the month window and with a stand-in build
    file, so a run with another window and another build file re-parses nothing; and every model and test compiles
    to exactly the SQL plain dbt compiles with the same vars (over the published warehouse: incremental branches)."""
    parse_dir, pipeline_dbt = tmp_path / "parse", str(Path(sys.executable).with_name("mirror-trade-dbt"))
    builds = {name: tmp_path / f"run.{name}.duckdb" for name in ("first", "second", "plain")}
    for build in builds.values():
        build.write_bytes(demo["warehouse"].read_bytes())
    first = _compile(demo, pipeline_dbt, builds["first"], tmp_path / "first", "2022-05-01", parse_dir)
    assert "Starting full parse" in first
    second = _compile(demo, pipeline_dbt, builds["second"], tmp_path / "second", "2022-06-01", parse_dir)
    assert "Partial parsing enabled" in second and "Unable to do partial parsing" not in second
    plain = _compile(demo, str(Path(sys.executable).with_name("dbt")), builds["plain"], tmp_path / "plain",
                     "2022-06-01", None)  # fmt: skip
    assert "Unable to do partial parsing" in plain or "Starting full parse" in plain

    def compiled(target: Path) -> dict[str, str]:
        root = target / "compiled"
        return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*.sql")}

    ours, theirs = compiled(tmp_path / "second"), compiled(tmp_path / "plain")
    assert len(theirs) > 200 and set(ours) == set(theirs)
    differing = sorted(name for name in theirs if ours[name] != theirs[name])
    assert not differing, f"compiled differently: {differing[:5]}"
    assert "2022-06-01" in theirs["mirror_trade/models/marts/source_coverage.sql"]


def test_months_arriving_out_of_order_give_every_mart_the_rows_of_the_full_build(demo: dict, tmp_path: Path) -> None:
    """The mirror and measure marts rebuild only the months a run changes and the months after them that depend
    on them (macros/window.sql). The publication as it stood before 2022-04 arrived, then 2022-05..06, then the
    late 2022-04 (which the later months' lag and 12-month windows read): every mart must end up holding exactly
    the rows of the demo's one full build."""
    from orchestration.lib.publish.publication import incremental_tables

    kept = incremental_tables()
    assert {"fct_mirror_flows", "fct_circumvention_signals", "fct_substitution", "fct_trade_routes"} <= {
        table for _, table in kept
    }
    build = tmp_path / "build.duckdb"
    build.write_bytes(demo["warehouse"].read_bytes())
    with duckdb.connect(str(build)) as con:
        for (schema, table), how in kept.items():
            where = "year >= 2022" if how.column == "year" else "period >= DATE '2022-04-01'"
            con.execute(f"DELETE FROM {schema}.{table} WHERE {where}")
    _dbt_run(demo, build, tmp_path / "dbt-a", "2022-05-01", "2022-06-01")
    covered = (
        "SELECT count(*) FILTER (WHERE mirror_gap_usd_window IS NOT NULL) FROM {}marts.fct_mirror_flows "
        "WHERE period = DATE '2022-05-01'"
    )
    with duckdb.connect(str(build), read_only=True) as con:
        before_the_late_month = con.execute(covered.format("")).fetchone()[0]
    _dbt_run(demo, build, tmp_path / "dbt-b", "2022-04-01", "2022-04-01")
    with duckdb.connect(str(build), read_only=True) as con:
        con.execute(f"ATTACH '{demo['warehouse']}' AS full_build (READ_ONLY)")
        # 2022-05's lag window reads 2022-04: only the late month's run could complete it
        assert before_the_late_month < con.execute(covered.format("full_build.")).fetchone()[0]
    _assert_marts_equal(build, demo["warehouse"])

    # Late baseline months (2021-11..12, the default baseline's last): the earlier baseline months' rows (built
    # against a baseline without them) must be rebuilt too, not only the later months.
    build.write_bytes(demo["warehouse"].read_bytes())
    with duckdb.connect(str(build)) as con:
        for schema, table in kept:
            con.execute(f"DELETE FROM {schema}.{table}")
    _dbt_run(demo, build, tmp_path / "dbt-c", "2021-01-01", "2021-10-01")
    _dbt_run(demo, build, tmp_path / "dbt-d", "2021-11-01", "2022-06-01")
    _assert_marts_equal(build, demo["warehouse"])


def _assert_marts_equal(build: Path, full_build: Path) -> None:
    with duckdb.connect(str(build), read_only=True) as con:
        con.execute(f"ATTACH '{full_build}' AS full_build (READ_ONLY)")
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'full_build' AND schema_name = 'marts' "
            "AND table_name <> 'publication_log' ORDER BY 1"
        ).fetchall()
        assert len(tables) >= 15
        for (table,) in tables:
            full = con.execute(f"SELECT count(*) FROM full_build.marts.{table}").fetchone()[0]
            mine = con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
            missing = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM full_build.marts.{table} EXCEPT ALL SELECT * FROM marts.{table})"
            ).fetchone()[0]
            extra = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM marts.{table} EXCEPT ALL SELECT * FROM full_build.marts.{table})"
            ).fetchone()[0]
            assert (mine, missing, extra) == (full, 0, 0), f"marts.{table}: {mine} rows vs {full}"
