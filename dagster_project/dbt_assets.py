"""dbt models as Dagster assets, grouped by dbt folder; dbt tests become asset checks."""


import os
import shutil
from collections.abc import Mapping
from pathlib import Path
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
    invocation = dbt.cli(dbt_build_args(), context=context)
    yield from invocation.stream()
    keep_partial_parse(invocation.target_path)


def keep_partial_parse(run_target: Path) -> None:
    """Keep this build's parse state where dagster-dbt seeds the next build's from.

    dagster-dbt gives each build its own target folder, seeded with partial_parse.msgpack from
    the project's target folder; dbt can reuse it only when the profile is the same (the same
    working file), so the next daily refresh of this warehouse skips a full parse.
    """
    built = run_target / "partial_parse.msgpack"
    seed_folder = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    if not seed_folder.is_absolute():
        seed_folder = Path(dbt_project.project_dir) / seed_folder
    if not built.exists() or built.parent.resolve() == seed_folder.resolve():
        return
    temp = seed_folder / f".partial_parse.msgpack.{os.getpid()}"
    shutil.copyfile(built, temp)
    os.replace(temp, seed_folder / "partial_parse.msgpack")


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
