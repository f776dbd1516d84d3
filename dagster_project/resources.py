"""Dagster resources. Settings are read from C360_* environment variables at run time."""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dbt import version as dbt_version
from packaging import version

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


class LocalDbtCliResource(DbtCliResource):
    """DbtCliResource for the dbt-core installed beside this interpreter (c360-dbt runs it).

    dagster-dbt learns the dbt version by starting `dbt --version`, a second dbt process on every
    refresh; the installed dbt-core package already says it.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_version.__version__)


RESOURCES = {
    "c360": C360Settings(),
    "dbt": LocalDbtCliResource(
        project_dir=dbt_project,
        dbt_executable=str(DBT_EXECUTABLE) if DBT_EXECUTABLE.exists() else "dbt",
    ),
}
