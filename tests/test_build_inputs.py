"""What a dbt step rebuilds, from the inputs of its last build (defs/dbt/build_inputs.py), on
hand-made inputs; the refreshes that use it are in test_demo.py (nothing new; new tickets)."""

from __future__ import annotations

import duckdb

from dagster_project.defs.dbt.build_inputs import (
    STEP_PREFIX,
    BuildInputs,
    code_fingerprint,
    model_vars,
    models_left_as_they_are,
    plan_build,
    record_inputs,
    recorded_inputs,
    source_fingerprints,
    step_graph,
)

BUILT = BuildInputs("code1", '{"as_of": ""}', {"sales.orders": "3:abc", "service.tickets": "2:def"})


def _with(**changes) -> BuildInputs:
    values = {"code": BUILT.code, "vars": BUILT.vars, "sources": dict(BUILT.sources)}
    values.update(changes)
    return BuildInputs(**values)


def test_the_plan_builds_everything_without_a_comparable_build():
    assert plan_build(BUILT, None, full_refresh=False).rebuild == "all"
    assert plan_build(BUILT, BUILT, full_refresh=True).rebuild == "all"
    assert plan_build(_with(code="code2"), BUILT, full_refresh=False).reason == "the dbt project or the dbt version changed"
    assert plan_build(_with(vars='{"as_of": "2024-01-31"}'), BUILT, full_refresh=False).reason == (
        "the settings passed to dbt changed")
    # a source the last build did not read, or another step's new build: everything
    assert plan_build(_with(sources={**BUILT.sources, "survey.responses": "1:x"}), BUILT,
                      full_refresh=False).rebuild == "all"
    other_step = {**BUILT.sources, f"{STEP_PREFIX}main": "d1"}
    assert plan_build(_with(sources={**other_step, f"{STEP_PREFIX}main": "d2"}), _with(sources=other_step),
                      full_refresh=False).rebuild == "all"


def test_the_plan_builds_what_new_rows_touch_or_nothing():
    assert plan_build(BUILT, _with(), full_refresh=False).rebuild == "none"
    plan = plan_build(_with(sources={**BUILT.sources, "service.tickets": "3:xyz"}), BUILT, full_refresh=False)
    assert (plan.rebuild, plan.changed, plan.reason) == ("changed", ("service.tickets",), "new rows in service.tickets")


def test_where_dbt_connects_is_not_an_input_of_a_table():
    a = {"work_db": "/a/w.duckdb", "warehouse": "/a/c.duckdb", "memory_limit": "4GB", "as_of": "", "timezone": "UTC"}
    b = {**a, "work_db": "/b/w.duckdb", "warehouse": "/b/c.duckdb", "memory_limit": "8GB"}
    assert model_vars(a) == model_vars(b) == '{"as_of": "", "timezone": "UTC"}'
    assert model_vars({**a, "timezone": "Asia/Shanghai"}) != model_vars(a)


def _manifest() -> dict:
    """Sources a and b; sa reads a, sb reads b, m reads both, n reads sa; a relationship test
    from sa to sb, and a not_null test on n."""
    models = {"sa": ["source.p.s.a"], "sb": ["source.p.s.b"], "m": ["model.p.sa", "model.p.sb"], "n": ["model.p.sa"]}
    tests = {"relationships_sa_sb": ["model.p.sa", "model.p.sb"], "not_null_n": ["model.p.n"]}
    nodes = {f"model.p.{name}": {"resource_type": "model", "name": name} for name in models}
    nodes.update({f"test.p.{name}": {"resource_type": "test", "name": name} for name in tests})
    parents = {**{f"model.p.{k}": v for k, v in models.items()}, **{f"test.p.{k}": v for k, v in tests.items()}}
    children: dict[str, list[str]] = {}
    for child, its_parents in parents.items():
        for parent in its_parents:
            children.setdefault(parent, []).append(child)
    sources = {f"source.p.s.{t}": {"source_name": "s", "name": t, "schema": "raw_s", "identifier": t} for t in "ab"}
    return {"nodes": nodes, "parent_map": parents, "child_map": children, "sources": sources,
            "metadata": {"project_name": "p"}}


def test_a_build_after_new_rows_leaves_what_does_not_read_them():
    manifest = _manifest()
    graph = step_graph(manifest, None)
    assert graph.sources == {"s.a": "raw_s.a", "s.b": "raw_s.b"} and not graph.upstream_models
    # New rows in b: sb and m are downstream; sa is the other parent of a test of sb, so it is
    # built too (its relationship test must run again); n is left.
    assert models_left_as_they_are(graph, manifest, ["s.b"]) == ["n"]
    assert models_left_as_they_are(graph, manifest, ["s.a"]) == []  # sa, m, n downstream; sb by the test
    assert models_left_as_they_are(graph, manifest, []) == ["m", "n", "sa", "sb"]
    step = step_graph(manifest, ["m"])
    assert step.upstream_models and step.sources == {}


def test_source_fingerprints_follow_loaded_files_and_rows(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    tables = {"sales.orders": "raw_sales.orders", "identity.phone_numbers": "raw_identity.phone_numbers"}
    assert source_fingerprints(con, tables) == {"sales.orders": "no files", "identity.phone_numbers": "missing"}
    con.execute("create schema ops")
    con.execute("create table ops.loaded_files (file_id bigint, system varchar, entity varchar)")
    con.execute("insert into ops.loaded_files values (1, 'sales', 'orders'), (2, 'sales', 'customers')")
    con.execute("create schema raw_identity")
    con.execute("create table raw_identity.phone_numbers as select '138' as phone_raw, '+86138' as phone_e164")
    first = source_fingerprints(con, tables)
    assert first["sales.orders"].startswith("1:") and first["identity.phone_numbers"].startswith("1:")
    con.execute("insert into ops.loaded_files values (3, 'sales', 'customers')")
    assert source_fingerprints(con, tables) == first  # another entity's file
    con.execute("insert into ops.loaded_files values (4, 'sales', 'orders')")
    con.execute("update raw_identity.phone_numbers set phone_e164 = '+86139'")
    second = source_fingerprints(con, tables)
    assert second["sales.orders"].startswith("2:") and second["identity.phone_numbers"] != first["identity.phone_numbers"]

    assert recorded_inputs(con, "step") is None
    record_inputs(con, "step", BUILT)
    record_inputs(con, "step", _with(code="code2"))  # the latest build replaces the earlier one
    recorded, built_at = recorded_inputs(con, "step")
    assert recorded == _with(code="code2") and built_at[:2] == "20"


def test_the_code_fingerprint_changes_with_any_file_of_the_project_but_target(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "target").mkdir()
    (tmp_path / "models" / "m.sql").write_text("select 1")
    before = code_fingerprint(tmp_path)
    (tmp_path / "target" / "manifest.json").write_text("{}")
    (tmp_path / "target" / "x.sql").write_text("select 2")
    assert code_fingerprint(tmp_path) == before
    (tmp_path / "models" / "m.sql").write_text("select 2")
    assert code_fingerprint(tmp_path) != before
