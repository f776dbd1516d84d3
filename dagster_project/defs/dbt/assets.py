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


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=C360DbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
    )
    def c360_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Resource):
        context.log.info(f"{DBT_PROGRESS_PREFIX} building and testing the dbt models"
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

    Dagster runs the dbt models in two steps around the customer-value asset (the models it
    reads, then the rest); `--indirect-selection buildable` keeps a test with parents in both
    steps (a relationships test) in the step that builds its last parent, not the first.
    """
    args = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "buildable",
            *dbt_vars_arg(c360.settings())]
    return [*args, "--full-refresh"] if c360.full_refresh else args
