"""The committed demo set refreshes and publishes; every ticket and survey response of it is either
linked to a customer or listed as unmatched with a reason, and the match rates are reported."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.instance import dagster_instance
from dagster_project.settings import child_environment, load_settings

from .conftest import C360, ROOT, query, refresh_env, rows_by, run_refresh
from .mart_probe import published_fingerprint
from .test_settings import duckdb_reports

DEMO = ROOT / "seeds" / "demo"
# The demo's orphan order lines: of a product whose only row is quarantined, and of unknown orders.
PRODUCT_CHECK = "relationships_stg_sales__order_lines_product_id__product_id__ref_stg_sales__products_"
ORDER_CHECK = "relationships_stg_sales__order_lines_order_id__order_id__ref_stg_sales__orders_"
ORPHAN_FINDINGS = {PRODUCT_CHECK: 133, ORDER_CHECK: 10}


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


def run_dbt(warehouse: Path, tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """dbt of this venv on the working file behind `warehouse`, its target and logs under tmp_path,
    with the vars `c360 dbt-vars` prints for these settings (as a user running dbt by hand)."""
    env = child_environment(C360_WAREHOUSE=str(warehouse), **settings)
    dbt_vars = subprocess.run([str(C360), "dbt-vars"], env=env, capture_output=True, text=True, check=True).stdout
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run([str(dbt), *args, "--vars", dbt_vars.strip(), "--target-path", str(tmp_path / "target"),
                           "--log-path", str(tmp_path / "logs")],
                          cwd=ROOT / "dbt", env=env, capture_output=True, text=True)


def test_dbt_unit_tests_pass(demo, tmp_path):
    """The nightly build leaves dbt's unit tests out (they test the SQL, not the day's data), so
    they run here, against the demo's working file, where their input relations exist."""
    warehouse, _ = demo
    proc = run_dbt(warehouse, tmp_path, "test", "--select", "test_type:unit")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 25
    assert {r["status"] for r in unit_tests} == {"pass"}


def test_published_customer_tables_are_stored_in_customer_order(demo):
    """Publishing writes customer_360 and customer_timeline sorted by customer, so a one-customer
    lookup reads one row group."""
    warehouse, _ = demo
    for table, order in (("customer_360", "customer_id"), ("customer_timeline", "customer_id, event_sequence")):
        stored = query(warehouse, f"select {order} from marts.{table} order by rowid")
        assert len(stored) > 100
        assert stored == query(warehouse, f"select {order} from marts.{table} order by {order}"), table


def test_published_customer_360_has_a_unique_index_on_customer_id(demo):
    warehouse, _ = demo
    indexes = query(warehouse, "select table_name, is_unique, expressions from duckdb_indexes()")
    assert [(i["table_name"], i["is_unique"], i["expressions"]) for i in indexes] == [
        ("customer_360", True, "[customer_id]")
    ]


def test_dbt_runs_with_the_memory_limit(demo, tmp_path):
    warehouse, _ = demo
    proc = run_dbt(warehouse, tmp_path, "show", "--inline", "select current_setting('memory_limit') as memory_limit",
                   "--output", "json", "--log-format", "text", C360_MEMORY_LIMIT="1500MB")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f'"memory_limit": "{duckdb_reports("1500MB")}"' in proc.stdout


def test_run_history_keeps_every_event_of_the_refresh(demo):
    """The consolidated SQLite event log (dagster_project/instance.py) holds the refresh's whole run:
    a materialization per asset and an evaluation per asset check, readable from another process."""
    _, output = demo
    instance = dagster_instance(load_settings())  # the session's DAGSTER_HOME
    assert type(instance.event_log_storage).__name__ == "ConsolidatedSqliteEventLogStorage"
    run_id = output.rsplit("(run ", 1)[1].split(")", 1)[0]
    events = [e.dagster_event.event_type_value for e in instance.all_logs(run_id) if e.dagster_event]
    job = instance.get_run_by_id(run_id)
    assert job.status == dg.DagsterRunStatus.SUCCESS
    planned = events.count("ASSET_CHECK_EVALUATION_PLANNED")
    assert planned > 100
    assert events.count("ASSET_CHECK_EVALUATION") == planned
    assert events.count("ASSET_MATERIALIZATION") == events.count("ASSET_MATERIALIZATION_PLANNED") > 40


def _run_id(output: str) -> str:
    return output.rsplit("(run ", 1)[1].split(")", 1)[0]


def _dbt_run_results(run_id: str, target: Path = ROOT / "dbt" / "target") -> dict[str, list[str]]:
    """{dbt step: the models dbt built in it} from the run_results.json of this Dagster run's dbt
    invocations (each in its own folder of the dbt target folder, named after the run)."""
    built = {}
    for folder in sorted(target.glob(f"c360_dbt_*-{run_id[:7]}-*")):
        results = json.loads((folder / "run_results.json").read_text())["results"]
        built[folder.name.split(f"-{run_id[:7]}")[0]] = sorted(
            r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model."))
    return built


def test_a_refresh_with_no_new_extracts_builds_nothing_and_publishes_the_same_mart(demo):
    """Nothing new: every table's inputs (code, settings, source rows) are those of the last build,
    so dbt does not run (defs/dbt/build_inputs.py); the same mart is published again, and the
    demo's open findings are still said, with their whole count, since the first refresh."""
    warehouse, _ = demo
    before = published_fingerprint(warehouse)
    findings_before = query(warehouse, "select * from ops.data_quality_findings order by check_name")
    again = run_refresh(DEMO, warehouse)
    assert again.returncode == 0, again.output
    run_id = _run_id(again.output)
    assert _dbt_run_results(run_id) == {}  # no dbt invocation, so no model that reads order lines
    assert re.search(r"dbt: 0 model\(s\) built, \d+ left as they were \(their inputs did not change\)", again.output)
    assert published_fingerprint(warehouse) == before
    assert query(warehouse, "select run_id from ops.publish_info")[0]["run_id"] == run_id
    for check, rows in ORPHAN_FINDINGS.items():
        assert f"{check} did not pass: {rows} failing row(s) when last run" in again.output
    assert query(warehouse, "select * from ops.data_quality_findings order by check_name") == findings_before
    assert "Blocking asset check" not in again.output  # Dagster's notes on checks not run are quiet


def test_new_ticket_extracts_rebuild_what_reads_tickets_and_not_the_order_lines(demo, tmp_path):
    """One new help-desk extract: dbt builds the models downstream of tickets and of the as-of date
    it moves, not the order lines' staging and pricing models (the as-of models above them still
    read priced lines), reuses the parse of the last build, and the mart equals a full refresh of
    the same files into a new warehouse."""
    warehouse, _ = demo
    sources, copy = tmp_path / "sources", tmp_path / "warehouse"
    shutil.copytree(DEMO, sources)
    shutil.copytree(warehouse.parent, copy)
    ticket = {"ticket_id": 990001, "customer_id": "C000238", "requester": {"name": "Zhao", "email": None, "phone": None},
              "created_at": "2026-07-01T09:00:00Z", "updated_at": "2026-07-01T10:00:00Z",
              "first_response_at": None, "solved_at": None, "channel": "email", "type": "complaint",
              "priority": "high", "status": "open", "satisfaction": None, "tags": []}
    (sources / "service" / "tickets_2026-07-01.jsonl").write_text(json.dumps(ticket) + "\n")
    # its own dbt target folder (C360_DBT_TARGET_PATH), where its dbt runs and parse states go
    target = tmp_path / "dbt_target"
    day = run_refresh(sources, copy / warehouse.name, dbt_target_path=str(target))
    assert day.returncode == 0, day.output
    assert "as of 2026-07-01" in day.output
    built = _dbt_run_results(_run_id(day.output), target)
    assert {"stg_service__tickets", "int_tickets_matched_to_customers", "customer_360"} <= set(built["c360_dbt_assets"])
    left = {"base_sales__order_lines_latest", "stg_sales__order_lines", "int_order_lines_priced",
            "base_sales__orders_latest", "stg_sales__products", "base_survey__responses_first_received"}
    assert left.isdisjoint(built["c360_dbt_assets"]), left & set(built["c360_dbt_assets"])
    assert "customer_value" in built["c360_dbt_value_assets"]
    assert query(copy / warehouse.name, "select open_tickets from marts.customer_360 "
                                        "where customer_id = 'C000238'")[0]["open_tickets"] >= 1

    # The next day's ticket is solved: the same warehouse again, so dbt reuses the last build's parse.
    ticket.update(ticket_id=990002, created_at="2026-07-02T08:00:00Z", updated_at="2026-07-02T09:00:00Z",
                  status="solved", solved_at="2026-07-02T09:00:00Z", type="question")
    (sources / "service" / "tickets_2026-07-02.jsonl").write_text(json.dumps(ticket) + "\n")
    next_day = run_refresh(sources, copy / warehouse.name, dbt_target_path=str(target))
    assert next_day.returncode == 0, next_day.output
    assert left.isdisjoint(_dbt_run_results(_run_id(next_day.output), target)["c360_dbt_assets"])
    [run_folder] = target.glob(f"c360_dbt_assets-{_run_id(next_day.output)[:7]}-*")
    log = (run_folder / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log  # the parse state of the last build was kept

    full = run_refresh(sources, tmp_path / "full" / "c360.duckdb", "--full-refresh")
    assert full.returncode == 0, full.output
    # Every table is equal but the customer-value scores: the daily refreshes re-score with the fit
    # of the history up to 2026-06-30 (a refit comes every C360_CLV_REFIT_DAYS), a full refresh fits anew.
    daily, anew = (json.loads(published_fingerprint(w)) for w in (copy / warehouse.name, tmp_path / "full" / "c360.duckdb"))
    assert daily.pop("marts.customer_value")[0] == anew.pop("marts.customer_value")[0] == 299
    assert daily == anew
    fits = [query(w, "select distinct history_as_of from marts.customer_value join ops.customer_value_fits "
                     "using (fit_id)")[0]["history_as_of"].isoformat()
            for w in (copy / warehouse.name, tmp_path / "full" / "c360.duckdb")]
    assert fits == ["2026-06-30", "2026-07-02"]


def test_an_open_finding_stays_until_the_data_is_fixed(demo, tmp_path):
    """The 133 demo order lines of product P0001, whose only product row was quarantined (list price
    `1O.00`), are an open finding in ops.data_quality_findings and `c360 report`, until a corrected
    product extract arrives; then that finding closes and the other stays."""
    warehouse, first_output = demo
    for check, rows in ORPHAN_FINDINGS.items():
        assert f"{check} did not pass: {rows} failing row(s)" in first_output
    report = subprocess.run([str(C360), "report"], cwd=ROOT, env=refresh_env(DEMO, warehouse),
                            capture_output=True, text=True)
    assert "Open data-quality findings (2;" in report.stdout
    assert f"{PRODUCT_CHECK}: 133 row(s), open since" in report.stdout
    opened = rows_by(query(warehouse, "select * from ops.data_quality_findings"), "check_name")

    sources, copy = tmp_path / "sources", tmp_path / "warehouse"
    shutil.copytree(DEMO, sources)
    shutil.copytree(warehouse.parent, copy)
    (sources / "sales" / "products_2026-06-30.csv").write_text(
        "product_id,product_name,category,unit_cost,list_price,updated_at\n"
        "P0001,Yunnan Arabica Beans 250g,Coffee,28.44,40.00,2026-06-30T08:00:00\n")
    fixed = run_refresh(sources, copy / warehouse.name)
    assert fixed.returncode == 0, fixed.output
    assert PRODUCT_CHECK not in fixed.output
    assert f"{ORDER_CHECK} did not pass: 10 failing row(s)" in fixed.output
    still = rows_by(query(copy / warehouse.name, "select * from ops.data_quality_findings"), "check_name")
    assert list(still) == [ORDER_CHECK]
    assert still[ORDER_CHECK]["first_seen_at"] == opened[ORDER_CHECK]["first_seen_at"]
    report = subprocess.run([str(C360), "report"], cwd=ROOT, env=refresh_env(sources, copy / warehouse.name),
                            capture_output=True, text=True)
    assert "Open data-quality findings (1;" in report.stdout and PRODUCT_CHECK not in report.stdout


def test_a_refresh_from_an_explicit_settings_object_publishes_the_same_mart_as_the_cli(demo, tmp_path, monkeypatch):
    """refresh(settings) is the library entry point: with no C360_* variable in the environment,
    an explicit Settings object gives the same mart as `c360 refresh` with the same values."""
    from dagster_project.defs import build_definitions
    from dagster_project.refresh import refresh
    from dagster_project.settings import Settings

    from .conftest import SETTING_NAMES
    from .mart_probe import published_fingerprint

    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    cli_warehouse, _ = demo
    settings = Settings(source_dir=DEMO, warehouse=tmp_path / "library" / "c360.duckdb",
                        dagster_home=tmp_path / "dagster_home")
    defs = build_definitions(settings)  # the whole code location, from these settings alone
    assert len(defs.resolve_all_asset_specs()) > 40
    assert defs.resolve_job_def("daily_refresh") is not None
    lines: list[str] = []
    result = refresh(settings, say=lines.append)
    assert result.published, "\n".join(lines)
    assert result.exit_code == 0 and result.as_of_date == "2026-06-30"
    assert any(line.startswith("published ") for line in result.summary)
    assert published_fingerprint(settings.warehouse) == published_fingerprint(cli_warehouse)
    assert query(settings.warehouse, "select as_of_date from ops.publish_info")[0]["as_of_date"] == \
        query(cli_warehouse, "select as_of_date from ops.publish_info")[0]["as_of_date"]


def test_a_finished_run_leaves_no_log_file_open(tmp_path):
    """A backfill runs one refresh per day in one process: each run's log handlers are closed."""
    import logging

    import dagster as dg

    from dagster_project.defs.run_logs import LOGGERS, close_run_loggers, run_logging_config

    @dg.asset
    def noisy(context: dg.AssetExecutionContext) -> None:
        context.log.info("a line")

    log_file = tmp_path / "run.log"
    defs = dg.Definitions(assets=[noisy], jobs=[dg.define_asset_job("j")], loggers=LOGGERS)
    result = defs.resolve_job_def("j").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=run_logging_config(log_file, verbose=False))
    assert result.success and "a line" in log_file.read_text()
    handlers = logging.getLogger(f"c360.file.{result.run_id}").handlers
    assert handlers and not handlers[0].stream.closed
    close_run_loggers(result.run_id)
    assert logging.getLogger(f"c360.file.{result.run_id}").handlers == []
    assert logging.getLogger(f"c360.progress.{result.run_id}").handlers == []
