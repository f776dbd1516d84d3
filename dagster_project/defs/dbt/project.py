"""The dbt project as Dagster sees it, and its manifest (written by `dbt parse`)."""

from __future__ import annotations

import json
from pathlib import Path

from dagster_dbt import DbtProject

from ...settings import DBT_PROJECT_DIR, Settings
from ..resources import dbt_resource


def dbt_project(settings: Settings) -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, target_path=settings.dbt_target_path)


def dbt_vars_arg(settings: Settings) -> list[str]:
    """The settings as dbt's `--vars` (the profile and the models read them with var())."""
    return ["--vars", json.dumps(settings.dbt_vars(), sort_keys=True)]


def prepare_manifest(settings: Settings) -> None:
    """Write the manifest Dagster reads the project's structure from (`dbt parse`)."""
    project = dbt_project(settings)
    dbt_resource(project).cli(
        ["--quiet", "parse", *dbt_vars_arg(settings)], target_path=project.target_path
    ).wait()


def manifest_is_current(settings: Settings) -> bool:
    """True when the manifest is newer than every file of the dbt project.

    Dagster reads only the project's structure from it (models, tests, lineage); `dbt build`
    parses again anyway, so a refresh need not re-parse an unchanged project first.
    """
    manifest = dbt_project(settings).manifest_path
    return artifact_is_current(manifest, manifest.parent)


def artifact_is_current(artifact: Path, *ignored: Path) -> bool:
    """True when `artifact`, a file dbt wrote, is newer than every file of the dbt project (its
    .sql, .yml, .yaml and .md files, except those under logs/ and the `ignored` folders)."""
    if not artifact.exists():
        return False
    skipped = {folder.resolve() for folder in ignored}
    built = artifact.stat().st_mtime
    for path in Path(DBT_PROJECT_DIR).rglob("*"):
        if path.suffix not in (".sql", ".yml", ".yaml", ".md") or not path.is_file():
            continue
        resolved = path.resolve()
        if skipped & set(resolved.parents) or "logs" in resolved.relative_to(DBT_PROJECT_DIR).parts[:1]:
            continue
        if path.stat().st_mtime >= built:
            return False
    return True


def prepare_manifest_if_stale(settings: Settings) -> bool:
    """prepare_manifest() unless the manifest is current. Returns whether it parsed."""
    if manifest_is_current(settings):
        return False
    prepare_manifest(settings)
    return True
