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


def manifest_is_current() -> bool:
    """True when target/manifest.json is newer than every file of the dbt project.

    Dagster reads only the project's structure from it (models, tests, lineage); `dbt build`
    parses again anyway, so a refresh need not re-parse an unchanged project first.
    """
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    target = manifest.parent.resolve()
    built = manifest.stat().st_mtime
    for path in Path(DBT_PROJECT_DIR).rglob("*"):
        if path.suffix not in (".sql", ".yml", ".yaml", ".md") or not path.is_file():
            continue
        resolved = path.resolve()
        if target in resolved.parents or "logs" in resolved.relative_to(DBT_PROJECT_DIR).parts[:1]:
            continue
        if path.stat().st_mtime >= built:
            return False
    return True


def prepare_manifest_if_stale() -> bool:
    """prepare_manifest() unless the manifest is current. Returns whether it parsed."""
    if manifest_is_current():
        return False
    prepare_manifest()
    return True


dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    prepare_manifest()
