"""The dbt project as Dagster sees it. `prepare_manifest()` runs `dbt parse`."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from .settings import DBT_PROJECT_DIR

# The dbt executable installed beside this interpreter, so that a venv need not be activated.
if shutil.which("dbt") is None:
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    target_path=os.environ.get("C360_DBT_TARGET_PATH", "target"),
)


def prepare_manifest() -> None:
    """Write target/manifest.json; `dagster dev` does this itself through prepare_if_dev."""
    dbt_project.preparer.prepare(dbt_project)


dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    prepare_manifest()
