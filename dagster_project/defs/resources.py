"""Typed Dagster resources, built from one Settings object (never from the environment)."""


import sys
from dataclasses import fields
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
    nps_min_responses: int
    pii: str = "clear"
    clv_refit_days: int
    clv_fit_method: str
    clv_cost_per_ticket: float
    clv_referral_value_per_promoter: float
    clv_discount_rate: float
    clv_min_purchasers: int
    clv_holdout_days: int
    full_refresh: bool = False  # rebuild the incremental models from the whole raw layer

    @classmethod
    def from_settings(cls, settings: Settings, *, full_refresh: bool = False) -> "C360Resource":
        values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
        return cls(**{k: str(v) if isinstance(v, Path) else v for k, v in values.items()}, full_refresh=full_refresh)

    def settings(self) -> Settings:
        return Settings(**{
            f.name: Path(getattr(self, f.name)) if f.type in ("Path", Path) else getattr(self, f.name)
            for f in fields(Settings)
        })


# dbt through `c360-dbt`, which dies with the refresh that started it (see dbt/child.py).
DBT_EXECUTABLE = Path(sys.executable).parent / "c360-dbt"


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(
        project_dir=project,
        dbt_executable=str(DBT_EXECUTABLE if DBT_EXECUTABLE.exists() else Path(sys.executable).parent / "dbt"),
    )
