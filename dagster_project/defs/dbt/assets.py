"""dbt models as Dagster assets, grouped by dbt folder; dbt tests become asset checks."""


import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from ..resources import C360Resource
from ..run_logs import DBT_PROGRESS_PREFIX
from .project import dbt_vars_arg


class C360DbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """staging, intermediate, marts, audit: the model's top folder under models/."""
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


# The dbt models after the customer-value step (dagster_project/defs/value): they read its scores.
# They are their own dbt invocation, so that the graph is ingest -> dbt -> value -> dbt (value) ->
# publish; in one multi-asset, Dagster would cut the dbt build into several invocations to get
# around the value step.
VALUE_MODELS = "stg_value__customer_value_scores customer_value"


def build_dbt_assets(project: DbtProject) -> list[dg.AssetsDefinition]:
    """[the models up to the intermediate layer and every mart but customer value, the models
    built on the customer-value scores]."""
    return [_dbt_assets(project, "c360_dbt_assets", exclude=VALUE_MODELS),
            _dbt_assets(project, "c360_dbt_value_assets", select=VALUE_MODELS)]


def _dbt_assets(project: DbtProject, name: str, select: str = "fqn:*", exclude: str = "") -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=C360DbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
    )
    def c360_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Resource):
        what = "the dbt models" if select == "fqn:*" else "the customer-value dbt models"
        context.log.info(f"{DBT_PROGRESS_PREFIX} building and testing {what}"
                         + (" (full refresh of the incremental models)" if c360.full_refresh else ""))
        invocation = dbt.cli(dbt_build_args(c360), context=context)
        yield from invocation.stream()
        keep_partial_parse(invocation.target_path, Path(c360.dbt_target_path))

    return c360_dbt_assets


def keep_partial_parse(run_target: Path, seed_folder: Path) -> None:
    """Keep this build's parse state where dagster-dbt seeds the next build's from.

    dagster-dbt gives each build its own target folder, seeded with partial_parse.msgpack from
    the project's target folder; dbt can reuse it only when the profile and vars are the same
    (the same working file and as-of setting), so the next daily refresh skips a full parse.
    """
    built = run_target / "partial_parse.msgpack"
    if not built.exists() or built.parent.resolve() == seed_folder.resolve():
        return
    temp = seed_folder / f".partial_parse.msgpack.{os.getpid()}"
    shutil.copyfile(built, temp)
    os.replace(temp, seed_folder / "partial_parse.msgpack")


def dbt_build_args(c360: C360Resource) -> list[str]:
    """`dbt build` of the models and their data tests, with the settings as `--vars`; with
    `full_refresh` (`c360 refresh --full-refresh`) the incremental models are rebuilt from the
    whole raw layer instead of merging only new extracts.

    dbt unit tests check the SQL's logic on fixed inputs, not the day's data, so the nightly
    build leaves them out; `make test` runs them (tests/test_demo.py).

    The dbt models run in two invocations around the customer-value step (build_dbt_assets);
    `--indirect-selection buildable` keeps a test whose parents are split between them in the
    invocation that builds its last parent.
    """
    args = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "buildable",
            *dbt_vars_arg(c360.settings())]
    return [*args, "--full-refresh"] if c360.full_refresh else args
