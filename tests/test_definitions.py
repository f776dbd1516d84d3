"""The whole Dagster code location loads, with the expected assets, groups, checks and schedule."""

import os
import time

import dagster as dg

from dagster_project.defs.dbt.project import manifest_is_current, prepare_manifest_if_stale
from dagster_project.definitions import defs, settings
from dagster_project.settings import DBT_PROJECT_DIR


def _specs():
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def test_ingestion_asset_keys_equal_dbt_source_keys():
    specs = _specs()
    for key in (["sales", "customers"], ["sales", "products"], ["sales", "orders"], ["sales", "order_lines"],
                ["service", "tickets"], ["survey", "responses"], ["identity", "phone_numbers"]):
        assert dg.AssetKey(key) in specs, key
    staging = specs[dg.AssetKey(["staging", "stg_sales__customer_versions"])]
    assert dg.AssetKey(["sales", "customers"]) in {dep.asset_key for dep in staging.deps}


def test_groups_one_per_source_system_and_dbt_folder():
    groups = {spec.group_name for spec in _specs().values()}
    assert {"sales", "service", "survey", "identity", "staging", "intermediate", "marts", "publish"} <= groups
    assert _specs()[dg.AssetKey(["marts", "customer_360"])].group_name == "marts"
    assert _specs()[dg.AssetKey(["staging", "stg_service__tickets"])].group_name == "staging"


def test_dbt_tests_and_raw_row_identity_are_asset_checks():
    check_keys = {key for key in defs.resolve_asset_graph().asset_check_keys}
    names = {(key.asset_key.to_user_string(), key.name) for key in check_keys}
    assert ("sales/orders", "raw_rows_equal_accepted_plus_quarantined") in names
    assert any(asset == "marts/customer_360" and name.startswith("unique_customer_360_customer_id")
               for asset, name in names)


def test_daily_refresh_job_and_schedule():
    job = defs.resolve_job_def("daily_refresh")
    assert job is not None
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job_name == "daily_refresh"
    published = _specs()[dg.AssetKey(["warehouse", "published_mart"])]
    assert dg.AssetKey(["marts", "customer_360"]) in {dep.asset_key for dep in published.deps}
    match_rates = _specs()[dg.AssetKey(["audit", "match_rate_history"])]
    assert dg.AssetKey(["audit", "identity_match_rates"]) in {dep.asset_key for dep in match_rates.deps}


def test_every_dependency_is_a_defined_asset():
    """A typo in a dep key would silently make an external asset; every dep must be defined here."""
    specs = _specs()
    for spec in specs.values():
        for dep in spec.deps:
            assert dep.asset_key in specs, f"{spec.key.to_user_string()} depends on unknown {dep.asset_key}"


def test_a_refresh_reparses_the_dbt_project_only_when_it_changed():
    """`c360 refresh` skips `dbt parse` while target/manifest.json is newer than every dbt file."""
    prepare_manifest_if_stale(settings)
    assert manifest_is_current(settings)
    assert prepare_manifest_if_stale(settings) is False
    model = DBT_PROJECT_DIR / "models" / "marts" / "customer_360.sql"
    before = model.stat()
    try:
        os.utime(model, (time.time() + 5, time.time() + 5))  # edited after the last parse
        assert not manifest_is_current(settings)
        assert prepare_manifest_if_stale(settings) is True
    finally:
        os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert manifest_is_current(settings)


def test_customer_value_sits_between_the_intermediate_models_and_its_mart():
    """The model step is in the graph: it reads dbt's purchase dates, dbt's mart reads its scores,
    and its fit check warns in Dagster."""
    specs = _specs()
    value = specs[dg.AssetKey(["value", "customer_value_scores"])]
    assert value.group_name == "value"
    assert dg.AssetKey(["intermediate", "int_purchases_aggregated_to_customer_dates"]) in {
        dep.asset_key for dep in value.deps}
    staged = specs[dg.AssetKey(["staging", "stg_value__customer_value_scores"])]
    assert {dep.asset_key for dep in staged.deps} == {value.key}
    mart = specs[dg.AssetKey(["marts", "customer_value"])]
    assert staged.key in {dep.asset_key for dep in mart.deps}
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("value/customer_value_scores", "customer_value_fit_in_use") in checks
