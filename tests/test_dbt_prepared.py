"""mirror-trade-dbt: what it tells dagster-dbt, and which options its parse shares with the command it runs.
(That its parse serves the next run and compiles what dbt compiles: tests/test_readme.py, on the demo's lake.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.dbt_manifest import PIPELINE_DBT_EXECUTABLE
from orchestration.lib.dbt_prepared import _shared_options, _target


def test_version_is_the_installed_dbt_core_as_dagster_dbt_reads_it() -> None:
    out = subprocess.run([PIPELINE_DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    assert f"installed: {version('dbt-core')}" in out
    resource = DbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=PIPELINE_DBT_EXECUTABLE)
    assert str(resource._cli_version) == version("dbt-core")
    assert Path(PIPELINE_DBT_EXECUTABLE).parent == Path(sys.executable).parent


def test_the_parse_shares_only_the_options_that_choose_project_profile_target_and_logs() -> None:
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", '{"min_period": "2022-05-01"}',
            "--target", "spark", "--project-dir=/p", "--select", "fqn:*", "--profiles-dir", "/q",
            "--log-path", "/l"]  # fmt: skip
    shared = ["--target", "spark", "--project-dir=/p", "--profiles-dir", "/q", "--log-path", "/l"]
    assert _shared_options(args) == shared
    assert _target(args) == "spark"
    assert _target(["build", "-t=build"]) == "build"
    assert _target(["build", "--vars", "{}"]) == "default"


def test_a_project_that_does_not_parse_fails_as_dbt_fails(tmp_path: Path) -> None:
    """The parse without the vars fails: the command is run as plain dbt would run it, and ends with dbt's error
    (exit code 2 and the file at fault), not with a traceback of its own."""
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "broken.sql").write_text("select {{ ref('no_such_model') }}")
    env = {
        **os.environ,
        "MIRROR_TRADE_DBT_PARSE_DIR": str(tmp_path / "parse"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [PIPELINE_DBT_EXECUTABLE, "compile", "--project-dir", str(project), "--profiles-dir", str(project),
         "--vars", '{"min_period": "2022-05-01", "max_period": "2022-05-01"}', "--log-path", str(tmp_path / "logs"),
         "--target-path", str(tmp_path / "target")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout[-2000:]
    assert "no_such_model" in result.stdout and "broken" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
