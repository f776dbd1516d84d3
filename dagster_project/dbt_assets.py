"""dbt models as Dagster assets, grouped by dbt folder; dbt tests become asset checks."""


import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from .dbt_project import dbt_project
from .resources import C360Settings


class C360DbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """staging, intermediate, marts, audit: the model's top folder under models/."""
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=C360DbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def c360_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Settings):
    c360.settings()  # exports C360_* settings for the dbt subprocess
    yield from dbt.cli(dbt_build_args(), context=context).stream()


FULL_REFRESH_ENV = "C360_DBT_FULL_REFRESH"


def dbt_build_args() -> list[str]:
    """`dbt build` of the models and their data tests; with C360_DBT_FULL_REFRESH=1
    (`c360 refresh --full-refresh`) the incremental models are rebuilt from the whole raw layer
    instead of merging only new extracts.

    dbt unit tests check the SQL's logic on fixed inputs, not the day's data, so the nightly
    build leaves them out; `make test` runs them (tests/test_demo.py).
    """
    full_refresh = os.environ.get(FULL_REFRESH_ENV, "").strip().lower() in ("1", "true", "yes")
    args = ["build", "--exclude-resource-type", "unit_test"]
    return [*args, "--full-refresh"] if full_refresh else args
