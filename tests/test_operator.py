"""What the operator is told (issue "One way in"): refused settings with exact messages before
anything loads, a stage summary with the quarantine counts, "no new extracts", a delimiter hint
for a rejected CSV, Dagster's DEBUG lines in the log file only, and ops.publish_info.

Small hand-made extracts; the newest extract is dated 2025-06-30, the newest record 2025-06-01
(so the mart is as of 2025-06-01 by default, and an as-of date up to 2025-06-30 is not refused).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import C360, ROOT, query, refresh_env, run_refresh
from .sources import customer, line, order, product, write_csv

NEWEST_EXTRACT = "2025-06-30"
NEWEST_RECORD = "2025-06-01"


def _write_sources(root: Path) -> None:
    write_csv(root, "customers", "2025-06-01", [customer("A"), customer("B")])
    write_csv(root, "products", "2025-06-01", [product("P1", "Coffee", unit_cost="4.00")])
    write_csv(root, "orders", "2025-06-01", [order("O1", "A", "2025-06-01T10:00:00Z")])
    # 3 rows: one good, one without order_id, one with a quantity that is no number
    write_csv(root, "order_lines", NEWEST_EXTRACT, [
        line("O1", 1, "P1", 2, "10.00"),
        line("", 2, "P1", 1, "10.00"),
        line("O1", 3, "P1", "two", "10.00"),
    ])


@pytest.fixture(scope="module")
def refreshes(tmp_path_factory):
    """A first refresh; then a second with the source folder emptied, as of a future date."""
    base = tmp_path_factory.mktemp("operator")
    sources, warehouse = base / "sources", base / "warehouse" / "c360.duckdb"
    _write_sources(sources)
    first = run_refresh(sources, warehouse)
    assert first.returncode == 0, first.output
    report_first = subprocess.run([str(C360), "report"], cwd=ROOT, env=refresh_env(sources, warehouse),
                                  capture_output=True, text=True)
    shutil.rmtree(sources)
    sources.mkdir()
    refused = run_refresh(sources, warehouse, as_of="2025-12-31")
    second = run_refresh(sources, warehouse, "--allow-future-as-of", as_of="2025-12-31")
    assert second.returncode == 0, second.output
    return {"first": first.output, "report": report_first, "refused": refused, "second": second.output,
            "sources": sources, "warehouse": warehouse}


def test_the_quarantine_is_counted_per_file_and_in_the_stage_summary(refreshes):
    output = refreshes["first"]
    assert ("c360:   sales.order_lines: 1/1 new file(s) done: 3 row(s) read, 1 accepted, 2 quarantined "
            "(bad_number:quantity 1, missing_key:order_id 1)") in output
    assert ("c360: ingest: 4 new file(s) loaded (0 loaded before); 7 row(s) read: 5 accepted, 2 quarantined "
            "(bad_number:quantity 1, missing_key:order_id 1)") in output
    assert re.search(r"c360: dbt: \d+ model\(s\) built; checks: \d+ passed, \d+ warned, 0 failed", output)
    assert re.search(rf"c360: published \S+ as of {NEWEST_RECORD} in [\d.]+ s \(run [0-9a-f-]+\): "
                     r"category_affinity \d+, cohort_retention \d+, customer_360 2,", output)


def test_dagster_debug_lines_go_to_the_log_file_only(refreshes):
    output = refreshes["first"]
    assert "DEBUG" not in output and "STEP_START" not in output and "Traceback" not in output
    assert "START sql" not in output  # dbt's own progress lines
    log_file = Path(re.search(r"c360: full log: (\S+)", output)[1])
    log = log_file.read_text()
    assert "DEBUG" in log and "STEP_START" in log
    assert "START sql table model marts.customer_360" in log  # dbt's lines are kept there


def test_the_published_mart_says_as_of_which_date(refreshes):
    [info] = query(refreshes["warehouse"], "select * from ops.publish_info")
    assert str(info["as_of_date"]) == "2025-12-31"  # the second refresh's
    assert info["engine"] == "duckdb" and info["code_version"].startswith("0.1.0")
    assert re.fullmatch(r"[0-9a-f-]{36}", info["run_id"])
    assert '"marts.customer_360": 2' in info["row_counts"]
    report = refreshes["report"]
    assert report.returncode == 0, report.stderr
    assert re.search(rf"as of {NEWEST_RECORD}; refreshed at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC by run [0-9a-f-]+ "
                     r"\(duckdb, c360 0\.1\.0", report.stdout), report.stdout


def test_a_future_as_of_is_refused_unless_allowed(refreshes):
    refused = refreshes["refused"]
    assert refused.returncode == 2
    assert ("c360: refused: C360_AS_OF 2025-12-31 is after the newest business date in the sources "
            f"({NEWEST_EXTRACT}, the newest extract): future months would be empty and customers counted as "
            "churned; pass --allow-future-as-of to build it anyway") in refused.output
    assert "as of 2025-12-31" in refreshes["second"]


def test_an_empty_source_folder_after_the_first_refresh_warns(refreshes):
    assert (f"c360: warning: no new extracts in {refreshes['sources']}; the mart is built from the "
            "extracts loaded before") in refreshes["second"]
    assert "no new extracts" not in refreshes["first"]


@pytest.mark.parametrize("make_folder", [True, False], ids=["empty", "missing"])
def test_a_first_refresh_without_extracts_is_refused(tmp_path, make_folder):
    sources, warehouse = tmp_path / "sources", tmp_path / "warehouse" / "c360.duckdb"
    if make_folder:
        sources.mkdir()
    result = run_refresh(sources, warehouse)
    assert result.returncode == 2
    what = "holds no extracts" if make_folder else "does not exist"
    assert (f"c360: refused: C360_SOURCE_DIR {sources} {what} (expected files such as "
            "sales/customers_YYYY-MM-DD.csv); a first refresh needs the extracts of the sources") in result.output
    assert not warehouse.exists() and not warehouse.with_name("c360.work.duckdb").exists()


def test_an_unknown_phone_region_is_refused_before_anything_loads(tmp_path):
    _write_sources(tmp_path / "sources")
    result = run_refresh(tmp_path / "sources", tmp_path / "warehouse" / "c360.duckdb", phone_region="XX")
    assert result.returncode == 2
    assert ("c360: bad setting: C360_PHONE_REGION must be a region the phone library knows (two letters "
            "such as CN, US, DE), got 'XX'") in result.output
    assert not (tmp_path / "warehouse").exists()


def test_a_semicolon_csv_is_rejected_with_a_delimiter_hint_and_no_traceback(tmp_path):
    sources = tmp_path / "sources"
    _write_sources(sources)
    customers = sources / "sales" / "customers_2025-06-01.csv"
    customers.write_text(customers.read_text().replace(",", ";"))
    result = run_refresh(sources, tmp_path / "warehouse" / "c360.duckdb")
    assert result.returncode == 1
    assert (f"{sources}/sales/customers_2025-06-01.csv: required column(s) missing: customer_id, name, email, "
            "phone, tier, region, acquisition_channel, sales_rep_id, created_at, updated_at (the header is "
            "separated by semicolons (;); the contract's CSV files use commas)") in result.output
    assert "Traceback" not in result.output
    assert len(result.output.splitlines()) < 40
    assert not (tmp_path / "warehouse" / "c360.duckdb").exists()
