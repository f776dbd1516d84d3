"""Settings come from C360_* environment variables; a bad value stops a refresh with a clear message."""

import re
import subprocess

import duckdb
import pytest

from dagster_project.settings import SettingsError, load_settings
from dagster_project.warehouse import work_connection

from .conftest import C360, ROOT, refresh_env


def duckdb_reports(memory_limit: str) -> str:
    """How DuckDB shows a memory limit once set (it converts 4GB to GiB)."""
    con = duckdb.connect()
    try:
        con.execute("set memory_limit = ?", [memory_limit])
        return con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def test_memory_limit_defaults_to_6gb(monkeypatch):
    monkeypatch.delenv("C360_MEMORY_LIMIT", raising=False)
    assert load_settings().memory_limit == "6GB"
    assert load_settings().dbt_vars()["memory_limit"] == "6GB"


@pytest.mark.parametrize("value", ["lots", "4", "-1GB", "4 XB"])
def test_a_bad_memory_limit_is_refused(monkeypatch, value):
    monkeypatch.setenv("C360_MEMORY_LIMIT", value)
    with pytest.raises(SettingsError, match="C360_MEMORY_LIMIT"):
        load_settings()


def test_the_loader_connection_uses_the_memory_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("C360_WAREHOUSE", str(tmp_path / "c360.duckdb"))
    monkeypatch.setenv("C360_MEMORY_LIMIT", "1500MB")
    with work_connection(load_settings()) as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == duckdb_reports("1500MB")
        assert duckdb_reports("1500MB") != duckdb_reports("4GB")


def test_refresh_with_a_bad_setting_names_it_and_exits(tmp_path):
    env = refresh_env(tmp_path, tmp_path / "c360.duckdb", memory_limit="plenty")
    proc = subprocess.run([str(C360), "refresh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "C360_MEMORY_LIMIT must be a size" in proc.stderr
    assert not (tmp_path / "c360.duckdb").exists()


def test_pii_defaults_to_clear_and_takes_masked(monkeypatch):
    monkeypatch.delenv("C360_PII", raising=False)
    assert load_settings().pii == "clear"
    monkeypatch.setenv("C360_PII", " Masked ")
    assert load_settings().pii == "masked"


def test_an_unknown_pii_policy_stops_the_refresh_before_anything_loads(tmp_path):
    env = refresh_env(tmp_path, tmp_path / "c360.duckdb", pii="hashed")
    proc = subprocess.run([str(C360), "refresh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "C360_PII must be one of clear, masked" in proc.stderr and "'hashed'" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no working file, no lock, no log: nothing was loaded


def test_the_dagster_resource_carries_every_setting(tmp_path):
    """Assets get the settings through C360Resource; a setting it did not carry would be lost."""
    from dagster_project.defs.resources import C360Resource
    from dagster_project.settings import Settings

    settings = Settings(source_dir=tmp_path / "s", warehouse=tmp_path / "w.duckdb", as_of="2025-01-31",
                        timezone="Asia/Shanghai", phone_region="DE", freshness_days=5, memory_limit="1GB",
                        dagster_home=tmp_path / "dh", dbt_target_path=tmp_path / "t", clv_refit_days=3,
                        clv_fit_method="mcmc", clv_cost_per_ticket=12.5, clv_referral_value_per_promoter=80.0,
                        clv_discount_rate=0.08, clv_min_purchasers=200, clv_holdout_days=90)
    resource = C360Resource.from_settings(settings, full_refresh=True)
    assert resource.settings() == settings
    assert resource.full_refresh is True
    assert settings.dbt_vars() == {"work_db": str(tmp_path / "w.work.duckdb"), "warehouse": str(tmp_path / "w.duckdb"),
                                   "memory_limit": "1GB",
                                   "as_of": "2025-01-31", "timezone": "Asia/Shanghai", "phone_region": "DE",
                                   "clv_cost_per_ticket": 12.5, "clv_referral_value_per_promoter": 80.0}


@pytest.mark.parametrize("name, value, message", [
    ("C360_PHONE_REGION", "XX", "C360_PHONE_REGION must be a region the phone library knows"),
    ("C360_AS_OF", "2025-02-30", "C360_AS_OF must be a date YYYY-MM-DD, got '2025-02-30'"),
    ("C360_TIMEZONE", "Mars/Olympus", "C360_TIMEZONE must be an IANA zone"),
    ("C360_FRESHNESS_DAYS", "two", "C360_FRESHNESS_DAYS must be a whole number of days"),
    ("C360_CLV_REFIT_DAYS", "-1", "C360_CLV_REFIT_DAYS must be a whole number, got '-1'"),
    ("C360_CLV_MIN_PURCHASERS", "1", "C360_CLV_MIN_PURCHASERS must be a whole number, 2 or more, got 1"),
    ("C360_CLV_HOLDOUT_DAYS", "-30", "C360_CLV_HOLDOUT_DAYS must be a whole number, got '-30'"),
    ("C360_CLV_FIT_METHOD", "guess", "C360_CLV_FIT_METHOD must be one of map, mcmc, got 'guess'"),
    ("C360_CLV_COST_PER_TICKET", "ten", "C360_CLV_COST_PER_TICKET must be a number, 0 or more, got 'ten'"),
    ("C360_CLV_REFERRAL_VALUE_PER_PROMOTER", "-5", "C360_CLV_REFERRAL_VALUE_PER_PROMOTER must be a number, 0 or more"),
    ("C360_CLV_DISCOUNT_RATE", "nan", "C360_CLV_DISCOUNT_RATE must be a number, 0 or more, got nan"),
])
def test_bad_settings_are_refused_where_they_enter(name, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings({name: value})
