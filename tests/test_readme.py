"""The README stays true: the offline demo runs, and its five worked questions give the answers printed there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import REPO_ROOT

pytestmark = pytest.mark.e2e

SECTION = re.compile(r"### Five worked questions\n(.*?)\n## ", re.S)
QUESTION = re.compile(r"```sql\n(.*?)\n```\n\n((?:\|[^\n]*\|\n)+)", re.S)


def worked_questions() -> list[tuple[str, str]]:
    section = SECTION.search((REPO_ROOT / "README.md").read_text())
    assert section, "README has a 'Five worked questions' section"
    found = QUESTION.findall(section.group(1))
    assert len(found) == 5
    return found


def test_offline_demo_answers_the_readme_questions(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_TRADE_", "COMTRADE_"))}
    env |= {"MIRROR_TRADE_HOME": str(tmp_path / "home"), "MIRROR_TRADE_DEMO_OFFLINE": "1"}
    env["DAGSTER_HOME"] = str(tmp_path / "home" / "dagster")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("mirror-trade")), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "published publication 1 with 18 months" in result.stdout
    with duckdb.connect(str(tmp_path / "home" / "published" / "warehouse.duckdb"), read_only=True) as con:
        for sql, table in worked_questions():
            got = con.sql(sql).df().to_markdown(index=False, disable_numparse=True)
            assert got.strip() == table.strip(), f"README answer out of date for:\n{sql}"
