"""What each dbt step was last built from, so that a refresh rebuilds only what new inputs touch.

A dbt model's table follows from three things: the dbt project's code, the settings passed as
`--vars`, and the rows of the sources it reads. After every dbt build of a step that succeeded,
the step records all three in `ops.dbt_build_inputs` in the working file:

- the code: a hash of every file of the dbt project (and of the dbt and DuckDB versions);
- the vars: the `--vars` JSON, less where dbt connects (the file paths, the memory limit);
- one fingerprint per source the step reads: for the raw layer, the files loaded into that table
  (ops.loaded_files: a raw table only ever grows by whole loaded files); for the tables Dagster
  assets make (identity.phone_numbers, value.customer_value_scores), a hash of all their rows;
  for models of another dbt step, that step's own record.

The next build of the step compares (plan_build):

- no record, other code, other vars, or `--full-refresh`: everything is built, as before;
- the same code and vars, some sources changed: only the models downstream of those sources
  are built, with the tests of every model built (models_left_as_they_are);
- nothing changed: nothing is built: every table is what the recorded build made of the same
  inputs, so a refresh with no new extracts publishes an identical mart without running dbt.

A build that fails records nothing, so the next one compares with the last build that
succeeded, and rebuilds everything a failed build may have half done. A dbt run by hand with
other vars does not update the record: run `c360 refresh --full-refresh` after one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb

from ...warehouse import rows_fingerprint
from ..ingest.contract import ENTITIES

BUILD_INPUTS_DDL = """
create schema if not exists ops;
create table if not exists ops.dbt_build_inputs (
    step varchar primary key,
    inputs varchar not null,
    built_at timestamptz not null default current_timestamp
)
"""

# the files of a dbt project that are its code (target/, logs/ and dbt_packages/ are not)
CODE_SUFFIXES = (".sql", ".yml", ".yaml", ".md", ".csv")
NOT_CODE = ("target", "logs", "dbt_packages")
VERSIONED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
LOADED_TABLES = {f"{entity.system}.{entity.name}" for entity in ENTITIES}
STEP_PREFIX = "dbt step "  # an input that is another dbt step's build
# vars that say where and how dbt connects, not what a model computes: moving the files or
# giving DuckDB more memory changes no table
CONNECTION_VARS = ("work_db", "warehouse", "memory_limit")


@dataclass(frozen=True)
class BuildInputs:
    code: str
    vars: str
    sources: dict[str, str]  # "sales.orders" (or "dbt step <name>") -> fingerprint

    def to_json(self) -> str:
        return json.dumps({"code": self.code, "vars": self.vars, "sources": self.sources}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildInputs:
        data = json.loads(text)
        return cls(data["code"], data["vars"], dict(data["sources"]))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()


@dataclass(frozen=True)
class BuildPlan:
    rebuild: str  # "all" | "changed" | "none"
    reason: str
    changed: tuple[str, ...] = field(default=())


def model_vars(dbt_vars: Mapping[str, object]) -> str:
    """The vars a model's table can depend on, as one JSON text."""
    return json.dumps({k: v for k, v in dbt_vars.items() if k not in CONNECTION_VARS}, sort_keys=True)


def plan_build(current: BuildInputs, recorded: BuildInputs | None, *, full_refresh: bool) -> BuildPlan:
    if full_refresh:
        return BuildPlan("all", "full refresh")
    if recorded is None:
        return BuildPlan("all", "no earlier build of this step is recorded")
    if recorded.code != current.code:
        return BuildPlan("all", "the dbt project or the dbt version changed")
    if recorded.vars != current.vars:
        return BuildPlan("all", "the settings passed to dbt changed")
    changed = tuple(sorted(name for name in current.sources if recorded.sources.get(name) != current.sources[name]))
    if not changed:
        return BuildPlan("none", "no source changed since the last build")
    if any(name.startswith(STEP_PREFIX) or name not in recorded.sources for name in changed):
        return BuildPlan("all", f"{', '.join(changed)} changed")
    return BuildPlan("changed", f"new rows in {', '.join(changed)}", changed)


def code_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for package in VERSIONED_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    root = Path(project_dir)
    paths = []
    for folder, subfolders, files in os.walk(root):  # target/ is not walked: run folders come and go
        if Path(folder) == root:
            subfolders[:] = [name for name in subfolders if name not in NOT_CODE]
        paths += [Path(folder) / name for name in files if Path(name).suffix in CODE_SUFFIXES]
    for path in sorted(paths):
        digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_fingerprints(con: duckdb.DuckDBPyConnection, tables: Mapping[str, str]) -> dict[str, str]:
    """{source name: fingerprint} for the sources {"sales.orders": "raw_sales.orders", ...}."""
    loaded = dict(con.execute(
        "select system || '.' || entity, count(*) || ':' || md5(string_agg(file_id::varchar, ',' order by file_id)) "
        "from ops.loaded_files group by all"
    ).fetchall()) if _exists(con, "ops", "loaded_files") else {}
    prints = {}
    for name, relation in tables.items():
        if name in LOADED_TABLES:
            prints[name] = loaded.get(name, "no files")
            continue
        schema, table = relation.split(".")
        if not _exists(con, schema, table):
            prints[name] = "missing"
            continue
        prints[name] = rows_fingerprint(con, f'"{schema}"."{table}"')
    return prints


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def recorded_inputs(con: duckdb.DuckDBPyConnection, step: str) -> tuple[BuildInputs, str] | None:
    """(the inputs of the step's last successful build, when it finished), or None."""
    if not _exists(con, "ops", "dbt_build_inputs"):
        return None
    row = con.execute("select inputs, strftime(built_at, '%Y-%m-%d %H:%M:%S') from ops.dbt_build_inputs "
                      "where step = ?", [step]).fetchone()
    return (BuildInputs.from_json(row[0]), row[1]) if row else None


def record_inputs(con: duckdb.DuckDBPyConnection, step: str, inputs: BuildInputs) -> None:
    con.execute(BUILD_INPUTS_DDL)
    con.execute("insert or replace into ops.dbt_build_inputs (step, inputs, built_at) "
                "values (?, ?, current_timestamp)", [step, inputs.to_json()])


# ---------------------------------------------------------------- the step's part of the manifest


@dataclass(frozen=True)
class StepGraph:
    """The models of one dbt step and what they read, from the manifest."""

    models: frozenset[str]  # unique ids
    sources: dict[str, str]  # the sources the step reads: {"sales.orders": "raw_sales.orders"}
    upstream_models: bool  # reads models another step builds
    children: dict[str, list[str]]
    parents: dict[str, list[str]]
    names: dict[str, str]  # unique id -> model name


def step_graph(manifest: Mapping, model_names: Iterable[str] | None, excluded: Iterable[str] = ()) -> StepGraph:
    """The step of the models named (None: every model) less the `excluded` ones."""
    wanted = set(model_names) if model_names is not None else None
    left_out = set(excluded)
    models = frozenset(
        uid for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and (wanted is None or node["name"] in wanted)
        and node["name"] not in left_out
    )
    parents = {uid: list(manifest["parent_map"].get(uid, [])) for uid in manifest["parent_map"]}
    sources = {}
    upstream_models = False
    for uid in models:
        for parent in parents.get(uid, []):
            if parent.startswith("source."):
                source = manifest["sources"][parent]
                sources[f"{source['source_name']}.{source['name']}"] = f"{source['schema']}.{source['identifier']}"
            elif parent.startswith("model.") and parent not in models:
                upstream_models = True
    names = {uid: node["name"] for uid, node in manifest["nodes"].items()}
    return StepGraph(models, sources, upstream_models, dict(manifest["child_map"]), parents, names)


def models_left_as_they_are(graph: StepGraph, manifest: Mapping, changed: Iterable[str]) -> list[str]:
    """The step's models a build after new rows in the `changed` sources need not rebuild.

    Rebuilt: every model downstream of a changed source, and every parent of a test that also
    tests a rebuilt model (a relationship test from order lines to products must run again
    when new products arrive; its order-line parent is a view or an incremental model with no
    new rows, so building it costs little). Everything else is left as it is.
    """
    changed = set(changed)
    source_ids = [uid for uid, source in manifest["sources"].items()
                  if f"{source['source_name']}.{source['name']}" in changed]
    rebuilt: set[str] = set()
    pending = source_ids
    while pending:
        for child in graph.children.get(pending.pop(), []):
            if child.startswith("model.") and child in graph.models and child not in rebuilt:
                rebuilt.add(child)
                pending.append(child)
    downstream = set(rebuilt)
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "test":
            tested = [p for p in graph.parents.get(uid, []) if p.startswith("model.")]
            if any(p in downstream for p in tested):
                rebuilt.update(p for p in tested if p in graph.models)
    return sorted(graph.names[uid] for uid in graph.models - rebuilt)
