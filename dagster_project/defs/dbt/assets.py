"""dbt models as Dagster assets, grouped by dbt folder; dbt tests become asset checks."""


import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from ...settings import DBT_PROJECT_DIR, Settings
from ...warehouse import work_connection
from ..resources import C360Resource
from ..run_logs import DBT_PROGRESS_PREFIX
from .build_inputs import (
    STEP_PREFIX,
    BuildInputs,
    StepGraph,
    code_fingerprint,
    model_vars,
    models_left_as_they_are,
    plan_build,
    record_inputs,
    recorded_inputs,
    source_fingerprints,
    step_graph,
)
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
BUILD_STEPS = ("c360_dbt_assets", "c360_dbt_value_assets")
UNCHANGED = "unchanged"  # the status of a model a refresh left as it was (its inputs did not change)
TRANSLATOR = C360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_dbt_assets(project: DbtProject) -> list[dg.AssetsDefinition]:
    """[the models up to the intermediate layer and every mart but customer value, the models
    built on the customer-value scores]."""
    main, value = BUILD_STEPS
    return [_dbt_assets(project, main, exclude=VALUE_MODELS), _dbt_assets(project, value, select=VALUE_MODELS)]


def _dbt_assets(project: DbtProject, name: str, select: str = "fqn:*", exclude: str = "") -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=TRANSLATOR,
    )
    def c360_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Resource):
        what = "the dbt models" if select == "fqn:*" else "the customer-value dbt models"
        if context.is_subset:  # a selection made in the Dagster UI: dagster-dbt builds just that
            context.log.info(f"{DBT_PROGRESS_PREFIX} building and testing the selected dbt models")
            yield from _build(context, dbt, dbt_build_args(c360), c360)
            return
        settings = c360.settings()
        manifest = json.loads(Path(project.manifest_path).read_text())
        graph = step_graph(manifest, None if select == "fqn:*" else select.split(), exclude.split())
        with work_connection(settings) as con:
            current = current_inputs(con, graph, name, settings)
            recorded = recorded_inputs(con, name)
        plan = plan_build(current, recorded[0] if recorded else None, full_refresh=c360.full_refresh)
        left = ([graph.names[uid] for uid in graph.models] if plan.rebuild == "none"
                else models_left_as_they_are(graph, manifest, plan.changed) if plan.rebuild == "changed" else [])
        since = recorded[1] if recorded else ""
        unchanged = LeftAsTheyAre(graph, manifest, left, context.op_execution_context.selected_output_names,
                                  {"status": UNCHANGED, "unchanged_since": since, "why": plan.reason})
        if plan.rebuild == "none":
            context.log.info(f"{DBT_PROGRESS_PREFIX} {what}: nothing to build ({plan.reason}, {since} UTC); "
                             "every table is as that build left it")
        else:
            context.log.info(
                f"{DBT_PROGRESS_PREFIX} building and testing {what}"
                + (" (full refresh of the incremental models)" if c360.full_refresh else "")
                + (f": {len(graph.models) - len(left)} of {len(graph.models)} model(s), downstream of the "
                   f"{plan.reason}" if left else f" ({plan.reason})" if plan.rebuild == "all" else ""))
            yield from unchanged.ready()
            for event in _build(context, dbt, dbt_build_args(c360) + (["--exclude", " ".join(left)] if left else []),
                                c360):
                yield event
                if isinstance(event, dg.Output):
                    yield from unchanged.ready(built=event.output_name)
            with work_connection(settings) as con:
                record_inputs(con, name, current)
        yield from unchanged.ready()

    return c360_dbt_assets


class LeftAsTheyAre:
    """The outputs of the models a build leaves as they are, each yielded once every model it
    reads in the same step has been (Dagster wants a multi-asset's outputs in topological order)."""

    def __init__(self, graph: StepGraph, manifest: Mapping, left: list[str], selected: set[str], metadata: dict):
        self.graph, self.metadata = graph, metadata
        self.output = {uid: TRANSLATOR.get_asset_key(manifest["nodes"][uid]).to_python_identifier()
                       for uid in graph.models}
        names = set(left)
        self.pending = [uid for uid in sorted(graph.models) if graph.names[uid] in names and self.output[uid] in selected]
        self.done: set[str] = {uid for uid in graph.models if self.output[uid] not in selected}

    def ready(self, built: str | None = None):
        self.done.update(uid for uid, output in self.output.items() if output == built)
        progressed = True
        while progressed:
            progressed = False
            for uid in list(self.pending):
                if all(p in self.done for p in self.graph.parents.get(uid, []) if p in self.graph.models):
                    self.pending.remove(uid)
                    self.done.add(uid)
                    progressed = True
                    yield dg.Output(None, output_name=self.output[uid], metadata=self.metadata)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str], c360: C360Resource):
    """One dbt invocation in a target folder of its own, seeded with the parse state kept for
    these settings (parse_state_file), which it then replaces."""
    settings = c360.settings()
    run_target = settings.dbt_target_path / (
        f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}")
    kept = parse_state_file(settings)
    if kept.exists():
        run_target.mkdir(parents=True)
        shutil.copyfile(kept, run_target / PARTIAL_PARSE)
    invocation = dbt.cli(args, context=context, target_path=run_target)
    yield from invocation.stream()
    keep_partial_parse(invocation.target_path, kept)


def current_inputs(con, graph: StepGraph, step: str, settings: Settings) -> BuildInputs:
    """What a build of this step now would be built from (see build_inputs.py)."""
    sources = source_fingerprints(con, graph.sources)
    if graph.upstream_models:  # the models of the other dbt steps: their last recorded builds
        for other in BUILD_STEPS:
            if other != step:
                built = recorded_inputs(con, other)
                sources[f"{STEP_PREFIX}{other}"] = built[0].digest if built else "not built"
    return BuildInputs(code_fingerprint(Path(DBT_PROJECT_DIR)), model_vars(settings.dbt_vars()), sources)


PARTIAL_PARSE = "partial_parse.msgpack"
PARSE_STATES_KEPT = 10


def parse_state_file(settings: Settings) -> Path:
    """Where the parse state of builds with these settings is kept: dbt reuses a parse state only
    for the same profile and vars (the same working file and as-of setting), so each set of vars
    has its own file, and refreshes of two warehouses sharing the dbt project never spoil each
    other's (`<C360_DBT_TARGET_PATH>/parse_state/<hash of the vars>.msgpack`)."""
    vars_hash = hashlib.sha256(dbt_vars_arg(settings)[1].encode()).hexdigest()[:16]
    return settings.dbt_target_path / "parse_state" / f"{vars_hash}.msgpack"


def keep_partial_parse(run_target: Path, kept: Path) -> None:
    """Keep this build's parse state for the next build with the same settings (the newest few)."""
    built = run_target / PARTIAL_PARSE
    if not built.exists():
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    temp = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(built, temp)
    os.replace(temp, kept)
    for old in sorted(kept.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)[PARSE_STATES_KEPT:]:
        old.unlink(missing_ok=True)


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
