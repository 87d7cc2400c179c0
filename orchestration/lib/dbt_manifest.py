"""`dbt parse` before Dagster loads the dbt assets, with the dbt of this interpreter: dagster-dbt's own preparation
(`DbtProject.prepare_if_dev`) runs a bare `dbt`, which fails whenever the virtualenv is not on PATH (`make dev`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# The dbt of this interpreter's environment, whether or not that environment is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# The dbt the pipeline's runs use: dbt's CLI on a manifest parsed without the run's month window (dbt_prepared.py).
PIPELINE_DBT_EXECUTABLE = str(Path(sys.executable).with_name("mirror-trade-dbt"))


def _newest_source_mtime() -> float:
    newest = 0.0
    for sub in ("models", "seeds", "macros", "tests", "dbt_project.yml", "profiles.yml"):
        root = DBT_PROJECT_DIR / sub
        paths = [root] if root.is_file() else root.rglob("*")
        for path in paths:
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file, or when `force`d."""
    if not force and MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        [
            DBT_EXECUTABLE,
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--quiet",
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return MANIFEST
