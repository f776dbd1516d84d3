"""The dbt project as Dagster sees it, and its manifest (written by `dbt parse`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from ...settings import DBT_PROJECT_DIR, Settings
from ..resources import dbt_resource


def dbt_project(settings: Settings) -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, target_path=settings.dbt_target_path)


def dbt_vars_arg(settings: Settings) -> list[str]:
    """The settings as dbt's `--vars` (the profile and the models read them with var())."""
    return ["--vars", json.dumps(settings.dbt_vars(), sort_keys=True)]


PARSED_ARTIFACTS = ("manifest.json", "semantic_manifest.json")


def prepare_manifest(settings: Settings) -> None:
    """Write the manifest Dagster reads the project's structure from (`dbt parse`).

    dbt parses into a folder of its own inside the target folder, and the manifests then replace
    the old ones atomically: two processes that parse at once (two refreshes of two warehouses
    sharing the target folder) never leave, or read, half a manifest.
    """
    project = dbt_project(settings)
    target = Path(project.target_path)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as temp:
        dbt_resource(project).cli(["--quiet", "parse", *dbt_vars_arg(settings)], target_path=Path(temp)).wait()
        for name in PARSED_ARTIFACTS:
            if (Path(temp) / name).exists():
                os.replace(Path(temp) / name, target / name)


def manifest_is_current(settings: Settings) -> bool:
    """True when the manifest is newer than every file of the dbt project.

    Dagster reads only the project's structure from it (models, tests, lineage); `dbt build`
    parses again anyway, so a refresh need not re-parse an unchanged project first.
    """
    manifest = dbt_project(settings).manifest_path
    return artifact_is_current(manifest, manifest.parent)


def artifact_is_current(artifact: Path, *ignored: Path) -> bool:
    """True when `artifact`, a file dbt wrote, is newer than every file of the dbt project (its
    .sql, .yml, .yaml and .md files, except those under logs/ and the `ignored` folders, which are
    not walked: another refresh may be removing its run folders there)."""
    if not artifact.exists():
        return False
    skipped = {folder.resolve() for folder in ignored} | {(Path(DBT_PROJECT_DIR) / "logs").resolve()}
    built = artifact.stat().st_mtime
    for folder, subfolders, files in os.walk(DBT_PROJECT_DIR):
        subfolders[:] = [name for name in subfolders if (Path(folder) / name).resolve() not in skipped]
        for name in files:
            if Path(name).suffix not in (".sql", ".yml", ".yaml", ".md"):
                continue
            try:
                if (Path(folder) / name).stat().st_mtime >= built:
                    return False
            except FileNotFoundError:  # removed while we looked
                continue
    return True


def prepare_manifest_if_stale(settings: Settings) -> bool:
    """prepare_manifest() unless the manifest is current. Returns whether it parsed."""
    if manifest_is_current(settings):
        return False
    prepare_manifest(settings)
    return True
