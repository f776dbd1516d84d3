"""The semantic layer (issue 12): MetricFlow metrics over the published mart, through `c360 metrics`.

One hand-made source set, one refresh (module scope). In Q1 2024 the months have unequal sample
sizes, so the average of the monthly ratios differs from the ratio of the quarter's summed parts:
`c360 metrics` must give the latter for every ratio metric. D = 2024-06-30 (UTC).
"""

from __future__ import annotations

import csv
import math
import re
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import C360, ROOT, query, refresh_env, run_refresh, start_refresh
from tests.sources import customer, line, order, product, response, ticket, write_csv, write_tickets

AS_OF = "2024-06-30"
EXTRACT = "2024-06-30"


def at(day: str) -> str:
    return f"{day}T10:00:00Z"


def write_sources(root: Path) -> None:
    write_csv(root, "customers", "2023-01-01", [
        customer("C1", at("2023-01-01"), "standard"),
        customer("C2", at("2023-01-01"), "gold"),
        customer("C3", at("2023-01-01"), "standard"),
        customer("C4", at("2023-01-01"), "gold"),
    ])
    write_csv(root, "products", "2023-01-01", [
        product("PA", "alpha", unit_cost="2.00"),
        product("PB", "beta", unit_cost="3.00"),
    ])
    write_csv(root, "orders", EXTRACT, [
        # 2023: C1 three purchases (anchor alpha), C2 one (anchor beta), C3 one.
        order("O11", "C1", at("2023-02-10")),
        order("O12", "C1", at("2023-05-10")),
        order("O13", "C1", at("2023-08-10")),
        order("O21", "C2", at("2023-03-01")),
        order("O31", "C3", at("2023-04-01")),
        # Q1 2024. January: C1 alpha 100 (no cross-sell). February: C1 beta 50 and C2 alpha 30
        # (both outside their anchors). March: C4's first three purchases, alpha (its anchor).
        order("O14", "C1", at("2024-01-15")),
        order("O15", "C1", at("2024-02-15")),
        order("O22", "C2", at("2024-02-20")),
        order("O41", "C4", at("2024-03-05")),
        order("O42", "C4", at("2024-03-06")),
        order("O43", "C4", at("2024-03-07")),
        # Q2 2024
        order("O16", "C1", at("2024-04-20")),
    ])
    write_csv(root, "order_lines", EXTRACT, [
        line("O11", 1, "PA", "1", "20.00"),
        line("O12", 1, "PA", "1", "20.00"),
        line("O13", 1, "PA", "1", "20.00"),
        line("O21", 1, "PB", "1", "40.00"),
        line("O31", 1, "PA", "1", "15.00"),
        line("O14", 1, "PA", "1", "100.00"),
        line("O15", 1, "PB", "1", "50.00"),
        line("O22", 1, "PA", "1", "30.00"),
        line("O41", 1, "PA", "1", "10.00"),
        line("O42", 1, "PA", "1", "10.00"),
        line("O43", 1, "PA", "1", "10.00"),
        line("O16", 1, "PA", "2", "25.00", discount_amount="5.00"),
    ])
    write_tickets(root, EXTRACT, [
        ticket("T1", at("2024-01-05"), customer_id="C1", ticket_type="complaint"),
        ticket("T2", at("2024-02-05"), customer_id="C2", ticket_type="complaint"),
        ticket("T3", at("2024-02-06"), customer_id="C2", ticket_type="question"),
        ticket("T4", at("2024-05-06"), ticket_type="complaint"),  # unmatched: still a complaint
    ])
    write_csv(root, "responses", EXTRACT, [
        # January: one response; February: three; March: one, unmatched (company-wide nps/csat).
        response("R1", at("2024-01-20"), customer_id="C1", nps=10, csat=5, category_spend_12m="200.00"),
        response("R2", at("2024-02-21"), customer_id="C1", nps=0, csat=4, category_spend_12m="1000.00"),
        response("R3", at("2024-02-22"), customer_id="C2", nps=0, csat=1, category_spend_12m="100.00"),
        response("R4", at("2024-02-23"), customer_id="C3", nps=10, csat=1),
        response("R5", at("2024-03-10"), email="nobody@example.com", nps=8, csat=3),
        response("R6", at("2024-04-10"), customer_id="C4", nps=9, csat=5, category_spend_12m="50.00"),
    ])


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("semantic_layer")
    write_sources(root / "sources")
    warehouse = root / "warehouse" / "c360.duckdb"
    refresh = run_refresh(root / "sources", warehouse, as_of=AS_OF)
    assert refresh.returncode == 0, refresh.output
    return root / "sources", warehouse


def c360_metrics(sources: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    """`c360 metrics` as a user runs it, with the settings of the fixture's refresh."""
    return subprocess.run([str(C360), "metrics", *args], cwd=ROOT, env=refresh_env(sources, warehouse, as_of=AS_OF),
                          capture_output=True, text=True)


def metric_rows(sources: Path, warehouse: Path, tmp_path: Path, *args: str) -> list[dict]:
    """Rows of a `c360 metrics ... --csv` answer; numbers as floats, empty cells as None."""
    out = tmp_path / "metrics.csv"
    proc = c360_metrics(sources, warehouse, *args, "--csv", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: _value(k, v) for k, v in row.items()} for row in rows]


def _value(name: str, text: str):
    if name.startswith("metric_time") or not re.fullmatch(r"-?[\d.e+-]+", text or "x"):
        return text[:10] if name.startswith("metric_time") else (text or None)
    return float(text)


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# Each ratio metric of kpi_monthly: (numerator, denominator) as SQL over its parts.
RATIO_PARTS = {
    "nps": ("100.0 * (nps_promoters - nps_detractors)", "nps_responses"),
    "csat_top2_pct": ("100.0 * csat_top2_responses", "csat_responses"),
    "completely_satisfied_pct": ("100.0 * csat_5_responses", "csat_responses"),
    "cross_sell_ratio": ("cross_sell_revenue", "revenue"),
    "avg_share_of_wallet": ("share_of_wallet_sum", "share_of_wallet_responses"),
}
SIMPLE_METRICS = ("revenue", "gross_margin", "new_customers", "churned_customers", "reactivated_customers",
                  "upgraded_customers", "complaints")


def test_metricflow_validates_the_semantic_layer_against_the_mart(published):
    proc = c360_metrics(*published, "--validate-configs")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert re.search(r"Successfully validated the semantics of built manifest \(ERRORS: 0", output), output
    assert re.search(r"Successfully validated metrics against data warehouse \(ERRORS: 0", output), output
    assert "ERROR:" not in output


def test_ratio_metrics_by_quarter_are_ratios_of_the_summed_parts(published, tmp_path):
    got = metric_rows(*published, tmp_path, "--metrics", ",".join(RATIO_PARTS),
                      "--group-by", "metric_time__quarter", "--order", "metric_time__quarter")
    parts = ", ".join(f"sum({num}) as {name}_num, sum({den}) as {name}_den, avg({name}) as {name}_avg"
                      for name, (num, den) in RATIO_PARTS.items())
    expected = query(published[1], f"""
        select strftime(date_trunc('quarter', month), '%Y-%m-%d') as quarter, {parts}
        from marts.kpi_monthly group by 1 order by 1
    """)
    assert [r["metric_time__quarter"] for r in got] == [r["quarter"] for r in expected]
    for mine, theirs in zip(got, expected):
        for name in RATIO_PARTS:
            den = theirs[f"{name}_den"]
            want = None if not den else theirs[f"{name}_num"] / den
            assert close(mine[name], want), (theirs["quarter"], name, mine[name], want)
    # Q1 2024: the months' sample sizes differ, so averaging monthly ratios would be wrong.
    q1 = {r["quarter"]: r for r in expected}["2024-01-01"]
    got_q1 = {r["metric_time__quarter"]: r for r in got}["2024-01-01"]
    for name in RATIO_PARTS:
        assert got_q1[name] is not None and q1[f"{name}_avg"] is not None, name
        assert not close(got_q1[name], q1[f"{name}_avg"]), (name, got_q1[name], q1[f"{name}_avg"])
    # and the hand-computed quarter: nps (2 promoters − 2 detractors) / 5, csat 2/5 and 1/5 top,
    # cross-sell (50 + 30) / (100 + 80 + 30), share of wallet (160/200 + 190/1000 + 70/100) / 3 (R2's
    # window starts 2023-02-23, after C1's first purchase).
    assert close(got_q1["nps"], 0.0)
    assert close(got_q1["csat_top2_pct"], 40.0) and close(got_q1["completely_satisfied_pct"], 20.0)
    assert close(got_q1["cross_sell_ratio"], 80 / 210)
    assert close(got_q1["avg_share_of_wallet"], (0.8 + 0.19 + 0.7) / 3)


def test_simple_metrics_sum_the_months_and_customers_counts_customer_360(published, tmp_path):
    got = metric_rows(*published, tmp_path, "--metrics", ",".join(SIMPLE_METRICS),
                      "--group-by", "metric_time__year", "--order", "metric_time__year")
    sums = ", ".join(f"sum({name}) as {name}" for name in SIMPLE_METRICS)
    expected = query(published[1], f"""
        select strftime(date_trunc('year', month), '%Y-%m-%d') as year, {sums}
        from marts.kpi_monthly group by 1 order by 1
    """)
    assert [r["metric_time__year"] for r in got] == [r["year"] for r in expected]
    for mine, theirs in zip(got, expected):
        for name in SIMPLE_METRICS:
            assert close(mine[name], float(theirs[name])), (theirs["year"], name)
    assert {r["metric_time__year"]: r["complaints"] for r in got}["2024-01-01"] == 3

    by_tier = metric_rows(*published, tmp_path, "--metrics", "customers,purchasers", "--group-by", "customer__tier")
    assert {r["customer__tier"]: (r["customers"], r["purchasers"]) for r in by_tier} == {
        "standard": (2, 2), "gold": (2, 2)}


def test_retention_metrics_by_year_and_tier_are_ratios_of_the_counts(published, tmp_path):
    got = metric_rows(*published, tmp_path, "--metrics", "retention_rate,repeat_rate_3plus",
                      "--group-by", "metric_time__year,retention_by_year__tier")
    expected = query(published[1], """
        select year, tier, retained_customers, prior_year_active, customers_3plus, active_customers
        from marts.retention_by_year
    """)
    assert len(got) == len(expected) == 6  # 2023 and 2024 × standard, gold, all
    rows = {(r["metric_time__year"][:4], r["retention_by_year__tier"]): r for r in got}
    for row in expected:
        mine = rows[(str(row["year"]), row["tier"])]
        retention = row["retained_customers"] / row["prior_year_active"] if row["prior_year_active"] else None
        repeat = row["customers_3plus"] / row["active_customers"] if row["active_customers"] else None
        assert close(mine["retention_rate"], retention), row
        assert close(mine["repeat_rate_3plus"], repeat), row
    # by hand, 2024: standard C1 of C1, C3 retained; gold C2 of C2; C4 (gold) the only 3-purchase buyer
    assert close(rows[("2024", "standard")]["retention_rate"], 0.5)
    assert close(rows[("2024", "gold")]["retention_rate"], 1.0)
    assert close(rows[("2024", "all")]["retention_rate"], 2 / 3)
    assert close(rows[("2024", "gold")]["repeat_rate_3plus"], 0.5)
    assert close(rows[("2023", "standard")]["repeat_rate_3plus"], 0.5)

    gold = metric_rows(*published, tmp_path, "--metrics", "retention_rate", "--group-by", "metric_time__year",
                       "--where", "{{ Dimension('retention_by_year__tier') }} = 'gold'", "--order", "metric_time__year")
    assert [(r["metric_time__year"], r["retention_rate"]) for r in gold] == [("2023-01-01", None),
                                                                           ("2024-01-01", 1.0)]


def test_other_mf_query_flags_pass_through(published, tmp_path):
    rows = metric_rows(*published, tmp_path, "--metrics", "revenue", "--group-by", "metric_time__quarter",
                       "--order", "-metric_time__quarter", "--limit", "1")
    assert [r["metric_time__quarter"] for r in rows] == ["2024-04-01"]
    proc = c360_metrics(*published, "--metrics", "revenue", "--explain")
    assert proc.returncode == 0 and '"c360"."marts"."kpi_monthly"' in proc.stdout, proc.stdout + proc.stderr


def test_an_unknown_metric_or_dimension_fails_with_metricflows_message(published):
    proc = c360_metrics(*published, "--metrics", "nps,no_such_metric", "--group-by", "metric_time__quarter")
    assert proc.returncode != 0
    assert "no_such_metric" in proc.stdout + proc.stderr
    assert "does not exactly match any known metrics" in proc.stdout + proc.stderr

    proc = c360_metrics(*published, "--metrics", "nps", "--group-by", "customer__no_such_dimension")
    assert proc.returncode != 0
    assert "customer__no_such_dimension" in proc.stdout + proc.stderr
    assert "does not match any of the available group-by-items" in proc.stdout + proc.stderr


def test_metrics_answer_while_a_refresh_runs(published, tmp_path):
    sources, warehouse = published
    before = metric_rows(sources, warehouse, tmp_path, "--metrics", "nps,revenue", "--group-by", "metric_time__quarter")
    refresh = start_refresh(sources, warehouse, "--full-refresh", as_of=AS_OF)
    lines: list[str] = []
    building = threading.Event()

    def read() -> None:
        for text in refresh.stdout:
            lines.append(text)
            if "dbt build" in text:
                building.set()
        building.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert building.wait(600) and refresh.poll() is None, "".join(lines)
        during = metric_rows(sources, warehouse, tmp_path, "--metrics", "nps,revenue",
                             "--group-by", "metric_time__quarter")
        assert refresh.poll() is None, "the refresh ended before the query did: nothing was proven"
    finally:
        refresh.wait(600)
        reader.join(10)
    assert refresh.returncode == 0, "".join(lines)
    # mf returns rows in no set order without --order: compare the same rows, each quarter once
    by_quarter = lambda rows: sorted(rows, key=lambda r: r["metric_time__quarter"])  # noqa: E731
    assert len(during) == len(before) and by_quarter(during) == by_quarter(before)
