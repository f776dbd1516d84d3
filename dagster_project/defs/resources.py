"""Typed Dagster resources, built from one Settings object (never from the environment)."""


import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from ..settings import Settings


class C360Resource(dg.ConfigurableResource):
    """The product's settings as the assets see them, plus the options of this run.

    Built by `C360Resource.from_settings` where the settings enter (the command line, the code
    location); the assets call `settings()` to get the validated, frozen Settings back.
    """

    source_dir: str
    warehouse: str
    as_of: str | None = None
    timezone: str
    phone_region: str
    freshness_days: int
    memory_limit: str
    dagster_home: str
    dbt_target_path: str
    engine: str
    full_refresh: bool = False  # rebuild the incremental models from the whole raw layer

    @classmethod
    def from_settings(cls, settings: Settings, *, full_refresh: bool = False) -> "C360Resource":
        return cls(
            source_dir=str(settings.source_dir),
            warehouse=str(settings.warehouse),
            as_of=settings.as_of,
            timezone=settings.timezone,
            phone_region=settings.phone_region,
            freshness_days=settings.freshness_days,
            memory_limit=settings.memory_limit,
            dagster_home=str(settings.dagster_home),
            dbt_target_path=str(settings.dbt_target_path),
            engine=settings.engine,
            full_refresh=full_refresh,
        )

    def settings(self) -> Settings:
        return Settings(
            source_dir=Path(self.source_dir),
            warehouse=Path(self.warehouse),
            as_of=self.as_of,
            timezone=self.timezone,
            phone_region=self.phone_region,
            freshness_days=self.freshness_days,
            memory_limit=self.memory_limit,
            dagster_home=Path(self.dagster_home),
            dbt_target_path=Path(self.dbt_target_path),
            engine=self.engine,
        )


# dbt through `c360-dbt`, which dies with the refresh that started it (see dbt/child.py).
DBT_EXECUTABLE = Path(sys.executable).parent / "c360-dbt"


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(
        project_dir=project,
        dbt_executable=str(DBT_EXECUTABLE if DBT_EXECUTABLE.exists() else Path(sys.executable).parent / "dbt"),
    )
