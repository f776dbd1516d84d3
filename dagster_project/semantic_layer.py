"""The semantic layer: MetricFlow (`mf` of dbt-metricflow) over the PUBLISHED mart.

The metrics are defined once, in dbt (dbt/models/semantic/). `run_metricflow(settings, args)` runs
`mf <args>` against the published file (Settings.warehouse), opened read-only, never against the
refresh's working file: a refresh holds the working file and replaces the published one
atomically, so a metric query answers while a refresh runs (it reads the old or the new file).

`mf` reads a dbt project, its profile and `<project>/target/semantic_manifest.json`, and takes no
`--vars`. So:
- the semantic manifest is written by `dbt parse --target published --vars ...` (the `published`
  output of dbt/profiles.yml, path = var('warehouse')) into a target folder of its own, and
  parsed again only when a dbt file changed or the published path did (under a lock, so
  concurrent queries parse once);
- `mf` runs in a small project folder of its own beside the published file (`c360.metricflow/`
  next to `c360.duckdb`, one per warehouse, so queries of two warehouses never mix): a
  dbt_project.yml naming the profile, a profiles.yml holding that `published` output with the
  path filled in, target/semantic_manifest.json and mf's logs/. DBT_PROFILES_DIR and
  DBT_PROJECT_DIR point `mf` at it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .defs.dbt.project import artifact_is_current
from .settings import DBT_PROJECT_DIR, Settings, child_environment

BIN = Path(sys.executable).parent
PROFILE = "c360"
PUBLISHED_TARGET = "published"
SEMANTIC_MANIFEST = "semantic_manifest.json"


class SemanticLayerError(RuntimeError):
    """The semantic manifest could not be written."""


def metricflow_folder(settings: Settings) -> Path:
    """The project folder `mf` runs in, beside the published file (`c360.metricflow/` next to
    `c360.duckdb`): dbt_project.yml, profiles.yml, target/semantic_manifest.json, mf's logs/."""
    return settings.warehouse.with_name(settings.warehouse.stem + ".metricflow")


def metricflow_profile(settings: Settings) -> dict:
    """The `published` output of dbt/profiles.yml with its vars filled in (mf cannot pass --vars)."""
    return {
        PROFILE: {
            "target": PUBLISHED_TARGET,
            "outputs": {
                PUBLISHED_TARGET: {
                    "type": "duckdb",
                    "path": str(settings.warehouse),
                    "schema": "main",
                    "threads": 1,
                    "config_options": {"access_mode": "READ_ONLY"},
                    "settings": {"TimeZone": "UTC", "memory_limit": settings.memory_limit},
                }
            },
        }
    }


def _write_if_changed(path: Path, text: str) -> None:
    """Replace the file atomically when its text differs (an `mf` of another query may read it)."""
    if path.exists() and path.read_text() == text:
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(text)
    os.replace(temp, path)


def prepare_metricflow_folder(settings: Settings) -> Path:
    """The folder `mf` runs in, for the published file of `settings`; the semantic manifest is
    parsed again when a dbt file changed or the published path did. Returns the folder."""
    folder = metricflow_folder(settings)
    target = folder / "target"
    target.mkdir(parents=True, exist_ok=True)
    manifest = target / SEMANTIC_MANIFEST
    stamp = target / "parsed_for.json"
    wanted = json.dumps({"warehouse": str(settings.warehouse)}, sort_keys=True)
    with open(folder / "parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even on kill -9
        # JSON is YAML: dbt reads both files as YAML.
        _write_if_changed(folder / "dbt_project.yml", json.dumps(
            {"name": PROFILE, "version": "1.0.0", "config-version": 2, "profile": PROFILE}, indent=2))
        _write_if_changed(folder / "profiles.yml", json.dumps(metricflow_profile(settings), indent=2))
        if (artifact_is_current(manifest, settings.dbt_target_path, DBT_PROJECT_DIR / "target")
                and stamp.exists() and stamp.read_text() == wanted):
            return folder
        proc = subprocess.run(
            [str(BIN / "dbt"), "--quiet", "--no-use-colors", "parse",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target", PUBLISHED_TARGET, "--target-path", str(target),
             "--vars", json.dumps(settings.dbt_vars(), sort_keys=True)],
            cwd=DBT_PROJECT_DIR, env=child_environment(), capture_output=True, text=True,
        )
        if proc.returncode != 0 or not manifest.exists():
            raise SemanticLayerError(f"dbt parse failed:\n{proc.stdout}{proc.stderr}".rstrip())
        stamp.write_text(wanted)
    return folder


def run_metricflow(settings: Settings, args: Sequence[str], *, capture: bool = False
                   ) -> subprocess.CompletedProcess:
    """`mf <args>` against the published file; MetricFlow's output and exit code as they are.

    Paths in `args` must be absolute: `mf` runs in a folder of its own.
    """
    folder = prepare_metricflow_folder(settings)
    env = child_environment(DBT_PROFILES_DIR=str(folder), DBT_PROJECT_DIR=str(folder))
    return subprocess.run([str(BIN / "mf"), *args], cwd=folder, env=env, capture_output=capture, text=True)
