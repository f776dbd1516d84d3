"""Dagster resources. Settings are read from C360_* environment variables at run time."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from .dbt_project import dbt_project
from .settings import Settings, export_dbt_env, load_settings


class C360Settings(dg.ConfigurableResource):
    """The product's settings (sources.md, "Settings"), read from the environment when a run starts."""

    def settings(self) -> Settings:
        settings = load_settings()
        export_dbt_env(settings)
        return settings


# dbt through `c360-dbt`, which dies with the refresh (see dbt_child.py); plain dbt if not installed.
DBT_EXECUTABLE = Path(sys.executable).parent / "c360-dbt"

RESOURCES = {
    "c360": C360Settings(),
    "dbt": DbtCliResource(
        project_dir=dbt_project,
        dbt_executable=str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else "dbt",
    ),
}
