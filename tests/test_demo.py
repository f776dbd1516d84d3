"""The committed demo set refreshes and publishes; every ticket and survey response of it is either
linked to a customer or listed as unmatched with a reason, and the match rates are reported."""

import subprocess

import duckdb
import pytest

from .conftest import C360, ROOT, query, rows_by, run_refresh

DEMO = ROOT / "seeds" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("demo") / "c360.duckdb"
    refresh = run_refresh(DEMO, warehouse)
    assert refresh.returncode == 0, refresh.output
    return warehouse, refresh.output


def test_demo_publishes_every_mart_table(demo):
    warehouse, _ = demo
    tables = {(r["schema_name"], r["table_name"]) for r in query(
        warehouse, "select schema_name, table_name from duckdb_tables()")}
    for table in ("customer_360", "retention_by_year", "cohort_retention", "kpi_monthly",
                  "category_affinity", "customer_timeline"):
        assert ("marts", table) in tables
        assert query(warehouse, f"select count(*) as n from marts.{table}")[0]["n"] > 0, table
    work = warehouse.with_name("c360.work.duckdb")
    con = duckdb.connect(str(work), read_only=True)
    try:
        known = con.execute("select count(*) from staging.stg_sales__customers").fetchone()[0]
    finally:
        con.close()
    assert query(warehouse, "select count(*) as n from marts.customer_360")[0]["n"] == known


def test_every_demo_ticket_and_response_is_linked_or_listed(demo):
    warehouse, output = demo
    con = duckdb.connect(str(warehouse.with_name("c360.work.duckdb")), read_only=True)
    try:
        for source, key, model in (("tickets", "ticket_id", "int_tickets_matched_to_customers"),
                                   ("responses", "response_id", "int_responses_matched_to_customers")):
            accepted = con.execute(
                f"select count(distinct trim({key})) from raw_{'service' if source == 'tickets' else 'survey'}."
                f"{source} where _quarantine_reason is null").fetchone()[0]
            linked = con.execute(
                f"select count(*) from intermediate.{model} where matched_customer_id is not null").fetchone()[0]
            listed = query(warehouse, "select count(*) as n from audit.unmatched_records where source_entity = ?",
                           [source])[0]["n"]
            assert accepted > 0
            assert linked + listed == accepted, source
    finally:
        con.close()
    rates = rows_by(query(warehouse, "select * from audit.identity_match_rates"), "source_entity")
    for source in ("tickets", "responses"):
        rate = rates[source]
        unmatched = rate["unmatched_no_key"] + rate["unmatched_ambiguous"] + rate["unmatched_unknown"]
        assert rate["matched_records"] + unmatched == rate["records"]
        assert 0 < rate["match_rate"] < 1  # the demo has both linked and unmatched records
        assert f"match rate {source}:" in output


def test_report_prints_what_was_published(demo):
    warehouse, _ = demo
    report = subprocess.run([str(C360), "report"], env={"C360_WAREHOUSE": str(warehouse), "PATH": ""},
                            capture_output=True, text=True, cwd=ROOT)
    assert report.returncode == 0, report.stderr
    assert "marts.customer_360" in report.stdout and "matched" in report.stdout
    assert "make ui" in report.stdout
