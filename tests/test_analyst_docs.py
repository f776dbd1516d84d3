"""The analysts' documentation works on a refreshed demo: every query of docs/cookbook.md runs on the
published mart and returns rows (three answers checked against independent computations), and
`make docs` builds the dbt catalogue over the published file with every mart column described and
the lineage from the three source systems to the dashboard exposure."""

from __future__ import annotations

import json
import math
import re
import subprocess

import pytest

from dagster_project.settings import child_environment

from .conftest import MART_TABLES, ROOT, query, run_refresh

DEMO = ROOT / "seeds" / "demo"
COOKBOOK = ROOT / "docs" / "cookbook.md"


def cookbook() -> dict[str, str]:
    """Question heading -> its SQL: the first ```sql block under each ### heading."""
    text = COOKBOOK.read_text(encoding="utf-8")
    questions = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = section.partition("\n")
        found = re.search(r"```sql\n(.*?)```", body, flags=re.DOTALL)
        assert found, f"no sql block under {heading!r}"
        questions[heading.strip()] = found.group(1)
    return questions


QUESTIONS = cookbook()


def question(number: int) -> str:
    (sql,) = [sql for heading, sql in QUESTIONS.items() if heading.startswith(f"{number}. ")]
    return sql


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("analysts") / "c360.duckdb"
    refresh = run_refresh(DEMO, warehouse)
    assert refresh.returncode == 0, refresh.output
    return warehouse


def test_the_cookbook_answers_at_least_ten_questions():
    assert len(QUESTIONS) >= 10
    # every sql block of the file is under a question (none left out of the test)
    assert COOKBOOK.read_text(encoding="utf-8").count("```sql") == len(QUESTIONS)


@pytest.mark.parametrize("heading", list(QUESTIONS))
def test_every_cookbook_query_returns_rows(demo, heading):
    rows = query(demo, QUESTIONS[heading])
    assert rows, heading


def test_retention_last_year_equals_the_mart_and_the_purchases(demo):
    """Question 1: the rows are retention_by_year's for the year before D's, and `all` equals a count
    of customers' purchases in the timeline (active the year before, and again last year)."""
    answer = {r["tier"]: r for r in query(demo, question(1))}
    as_of = query(demo, "select as_of_date from ops.publish_info")[0]["as_of_date"]
    last_year = as_of.year - 1
    table = {r["tier"]: r for r in query(demo, "select * from marts.retention_by_year where year = ?", [last_year])}
    assert set(answer) == {"gold", "standard", "all"}
    for tier, row in answer.items():
        assert row == {k: table[tier][k] for k in row}, tier
        assert row["retention_rate"] == pytest.approx(row["retained_customers"] / row["prior_year_active"])
    purchases = query(demo, """
        select customer_id, year(event_date) as year from marts.customer_timeline
        where event_type = 'order' and order_status = 'completed' and event_date <= ?
        """, [as_of])
    active = {year: {p["customer_id"] for p in purchases if p["year"] == year} for year in (last_year - 1, last_year)}
    assert answer["all"]["prior_year_active"] == len(active[last_year - 1]) > 0
    assert answer["all"]["retained_customers"] == len(active[last_year - 1] & active[last_year]) > 0
    assert answer["all"]["active_customers"] == len(active[last_year])


def test_churned_minus_reactivated_by_month_adds_up_to_the_customers_churned_today(demo):
    """Question 6: every churn event is later either a reactivation or a customer still churned at D."""
    months = query(demo, question(6))
    churned_now = query(demo, "select count(*) as n from marts.customer_360 where churn_risk = 'churned'")[0]["n"]
    assert churned_now > 0
    assert sum(m["churned_customers"] for m in months) - sum(m["reactivated_customers"] for m in months) == churned_now
    assert [m["month"] for m in months] == sorted(m["month"] for m in months)


def test_the_pareto_share_equals_a_hand_ranking_of_purchasers(demo):
    """Question 11, recomputed from every customer's row: the top ceil(20%) of purchasers by
    12-month revenue (ties: customer_id), their share of all 12-month revenue."""
    (answer,) = query(demo, question(11))
    customers = query(demo, "select customer_id, purchases_lifetime, net_revenue_12m from marts.customer_360")
    purchasers = sorted((c for c in customers if c["purchases_lifetime"] > 0),
                        key=lambda c: (-c["net_revenue_12m"], c["customer_id"]))
    top = purchasers[: math.ceil(0.2 * len(purchasers))]
    assert answer["purchasers"] == len(purchasers)
    assert answer["top_20pct_customers"] == len(top)
    total = sum(c["net_revenue_12m"] for c in customers)
    assert answer["top_20pct_share"] == pytest.approx(sum(c["net_revenue_12m"] for c in top) / total)
    assert 0.2 < answer["top_20pct_share"] < 1


def test_yearly_revenue_adds_up_to_the_customers_lifetime_revenue(demo):
    """Question 13: kpi_monthly's revenue summed by year equals the customers' lifetime revenue."""
    years = query(demo, question(13))
    lifetime = query(demo, "select sum(net_revenue_lifetime) as r from marts.customer_360")[0]["r"]
    assert sum(y["revenue"] for y in years) == pytest.approx(lifetime, abs=0.005)
    assert [y["year"] for y in years] == sorted(y["year"] for y in years)


def test_top_share_of_wallet_customers_match_a_hand_sort(demo):
    """Question 3, against a sort of every customer's row."""
    answer = [r["customer_id"] for r in query(demo, question(3))]
    customers = query(demo, "select customer_id, share_of_wallet, net_revenue_12m from marts.customer_360 "
                            "where share_of_wallet is not null")
    expected = sorted(customers, key=lambda c: (-c["share_of_wallet"], -c["net_revenue_12m"], c["customer_id"]))
    assert answer == [c["customer_id"] for c in expected[:10]]


# --- the catalogue ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def catalogue(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    proc = subprocess.run(["make", "--no-print-directory", "docs", f"CATALOGUE={folder}"], cwd=ROOT,
                          env=child_environment(C360_WAREHOUSE=str(demo)), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return folder, proc.stdout


def test_make_docs_builds_the_catalogue_over_the_published_mart(demo, catalogue):
    folder, output = catalogue
    assert str(demo) in output
    assert (folder / "static_index.html").exists() and (folder / "index.html").exists()
    catalog = json.loads((folder / "catalog.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    nodes = {n["metadata"]["name"]: n for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"}
    assert set(nodes) == MART_TABLES
    stored = [(r["table_name"], r["column_name"]) for r in query(
        demo, "select table_name, column_name from duckdb_columns() where schema_name = 'marts'")]
    # every column of the published mart is in the catalogue, with its description
    assert {(t, c) for t, c in stored} == {(t, c) for t, n in nodes.items() for c in n["columns"]}
    undescribed = [f"{t}.{c}" for t, n in nodes.items() for c, col in n["columns"].items()
                   if not (col.get("comment") or "").strip()]
    assert undescribed == []
    assert all((n["metadata"].get("comment") or "").strip() for n in nodes.values())
    models = {n["name"]: n for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["schema"] == "marts"}
    assert all(col["description"].strip() for m in models.values() for col in m["columns"].values())


def test_the_catalogue_traces_the_three_source_systems_to_the_dashboard(catalogue):
    folder, _ = catalogue
    manifest = json.loads((folder / "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.c360.dashboard"]
    assert exposure["type"] == "dashboard"
    assert "dashboard.html" in exposure["url"]
    assert {f"model.c360.{m}" for m in ("customer_360", "kpi_monthly", "retention_by_year")} <= set(
        exposure["depends_on"]["nodes"])
    seen, todo = set(), ["exposure.c360.dashboard"]
    while todo:
        for parent in manifest["parent_map"][todo.pop()]:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    systems = {manifest["sources"][s]["source_name"] for s in seen if s.startswith("source.")}
    assert {"sales", "service", "survey"} <= systems
