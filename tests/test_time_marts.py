"""Time marts of metrics.md (retention_by_year, cohort_retention, customer_timeline, kpi_monthly) and
the tier history and churn events they stand on, against numbers computed by hand.

One hand-made source set, one refresh (module scope). Business dates are in Asia/Shanghai (UTC+8, no
daylight saving): most timestamps are 04:00Z = 12:00 local, the same date; a few sit near midnight to
cross a day, month and year boundary. D = 2024-06-20, so D's year 2024 and D's month 2024-06 are partial.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import query, run_refresh
from tests.sources import customer, line, order, product, response, ticket, write_csv, write_tickets

AS_OF = "2024-06-20"
TIMEZONE = "Asia/Shanghai"


def at(day: str, time: str = "04:00:00") -> str:
    """A UTC timestamp on `day`; 04:00Z is noon in Shanghai, the same business date."""
    return f"{day}T{time}Z"


def write_sources(root: Path) -> None:
    # --- customers: every version ever received, spread over extracts (all loaded by one refresh) ---
    write_csv(root, "customers", "2022-01-01", [
        customer("C1", at("2022-01-01"), "standard"),
        customer("C4", at("2022-01-01"), "standard"),
        customer("C5", at("2022-01-01"), "standard"),
        customer("C6", at("2022-01-01"), "standard"),
        customer("C8", at("2022-01-01"), "standard", email="c8@example.com"),
    ])
    # C1: upgraded mid-2023 (2023-03-15).
    write_csv(root, "customers", "2023-03-15", [customer("C1", at("2023-03-15"), "gold")])
    # C3: three versions in one day (09:00, 10:00, 11:00 local); the day ends standard, so no upgrade.
    write_csv(root, "customers", "2023-05-01", [
        customer("C3", at("2023-05-01", "01:00:00"), "standard"),
        customer("C3", at("2023-05-01", "02:00:00"), "gold"),
        customer("C3", at("2023-05-01", "03:00:00"), "standard"),
    ])
    # C3: gold at 2023-12-31T20:00Z = 2024-01-01 04:00 local: an upgrade on 2024-01-01, not in 2023.
    write_csv(root, "customers", "2024-01-01", [customer("C3", at("2023-12-31", "20:00:00"), "gold")])
    # C2: four versions in one extract, out of order: standard 2023-01-01, gold 2023-06-10,
    # standard 2023-09-01 (downgrade), gold 2024-03-05. Ordered by updated_at, not by line.
    write_csv(root, "customers", "2024-03-06", [
        customer("C2", at("2024-03-05"), "gold"),
        customer("C2", at("2023-01-01"), "standard"),
        customer("C2", at("2023-09-01"), "standard"),
        customer("C2", at("2023-06-10"), "gold"),
    ])
    # C7 arrives late: its first (and only) version is dated 2024-05-01, after its 2023 orders.
    write_csv(root, "customers", "2024-05-01", [customer("C7", at("2024-05-01"), "gold")])
    # C5: upgraded after D (2024-06-25): not an upgrade as of D, and C5 is still standard at D.
    write_csv(root, "customers", "2024-06-25", [customer("C5", at("2024-06-25"), "gold")])

    write_csv(root, "products", "2022-01-01", [
        product("P1", "alpha", unit_cost="4.00"),
        product("P2", "beta", unit_cost="2.00"),
        product("P3", "gamma", unit_cost="1.00"),
    ])

    orders = [
        # C1
        order("O101", "C1", at("2022-02-10")),
        order("O102", "C1", at("2022-05-01")),
        order("O103", "C1", at("2022-08-01")),
        order("O104", "C1", at("2023-01-10")),
        order("O105", "C1", at("2024-02-01")),
        order("O106", "C1", at("2024-06-25")),  # after D: no purchase, but on the timeline
        # C2
        order("O201", "C2", at("2023-01-15")),
        order("O202", "C2", at("2023-07-01")),
        order("O203", "C2", at("2024-04-10")),
        # C3: O302 at 2023-12-31T17:00Z = 2024-01-01 01:00 local, a 2024 purchase.
        order("O301", "C3", at("2023-05-02")),
        order("O302", "C3", at("2023-12-31", "17:00:00")),
        # C4: 2022-06-21 and 2023-06-21, exactly 365 days apart (no churn); churn on 2024-06-20 = D.
        order("O401", "C4", at("2022-06-21")),
        order("O402", "C4", at("2023-06-21")),
        # C5: 366 days apart (churn 2023-03-01, reactivation 2023-03-02), then 365 days apart (none).
        order("O501", "C5", at("2022-03-01")),
        order("O502", "C5", at("2023-03-02")),
        order("O503", "C5", at("2024-03-01")),
        # C6: two orders on one date (one purchase date); churn on 2024-06-21, the day after D.
        order("O601", "C6", at("2023-06-22")),
        order("O602", "C6", at("2023-06-22", "06:00:00")),
        # C7 (customer arrives 2024-05-01): three purchases in 2023.
        order("O701", "C7", at("2023-08-15")),
        order("O702", "C7", at("2023-09-15")),
        order("O703", "C7", at("2023-10-15")),
        # C99 never arrives: not a purchase, not on any timeline; still the earliest accepted order.
        order("O9901", "C99", at("2021-11-20")),
    ]
    write_csv(root, "orders", "2024-06-25", orders)
    # Status changes across extracts: O303 cancelled -> completed -> returned (no purchase);
    # O304 cancelled -> completed (a purchase).
    write_csv(root, "orders", "2023-06-01", [
        order("O303", "C3", at("2023-06-01"), "cancelled", at("2023-06-01")),
        order("O304", "C3", at("2023-08-01"), "cancelled", at("2023-08-01")),
    ])
    write_csv(root, "orders", "2023-06-02", [
        order("O303", "C3", at("2023-06-01"), "completed", at("2023-06-02")),
        order("O304", "C3", at("2023-08-01"), "completed", at("2023-08-02")),
    ])
    write_csv(root, "orders", "2023-06-10", [
        order("O303", "C3", at("2023-06-01"), "returned", at("2023-06-10")),
    ])

    write_csv(root, "order_lines", "2024-06-25", [
        line("O101", 1, "P1", "1", "100.00"),  # alpha 100, cost 4
        line("O102", 1, "P2", "2", "25.00"),  # beta 50, cost 4
        line("O103", 1, "P1", "1", "30.00"),  # alpha 30, cost 4
        line("O104", 1, "P1", "1", "40.00"),  # alpha 40, cost 4
        line("O104", 2, "P3", "1", "10.00"),  # gamma 10, cost 1
        line("O105", 1, "P2", "1", "20.00"),  # beta 20, cost 2
        line("O106", 1, "P1", "1", "10.00"),
        line("O201", 1, "P2", "1", "60.00"),  # beta 60, cost 2
        line("O201", 2, "P1", "1", "60.00"),  # alpha 60, cost 4: a tie, anchor alpha by name
        line("O202", 1, "P2", "1", "30.00"),  # beta 30, cost 2
        line("O203", 1, "P3", "2", "15.00", discount_amount="5.00"),  # gamma 25, cost 2
        line("O301", 1, "P3", "1", "80.00"),  # gamma 80, cost 1
        line("O302", 1, "P1", "1", "50.00", unit_cost="10.00"),  # alpha 50, line cost 10
        line("O303", 1, "P1", "1", "999.00"),  # returned
        line("O304", 1, "P3", "1", "20.00"),  # gamma 20, cost 1
        line("O401", 1, "P1", "1", "10.00"),  # alpha 10, cost 4
        line("O402", 1, "P1", "1", "10.00"),
        line("O501", 1, "P2", "1", "10.00"),  # beta 10, cost 2
        line("O502", 1, "P2", "1", "10.00"),
        line("O503", 1, "P2", "1", "10.00"),
        line("O601", 1, "P1", "1", "10.00"),  # alpha 10, cost 4
        line("O602", 1, "P3", "1", "5.00"),  # gamma 5, cost 1
        line("O701", 1, "P1", "1", "10.00"),  # alpha 10, cost 4
        line("O702", 1, "P1", "1", "10.00"),
        line("O703", 1, "P2", "1", "10.00"),  # beta 10, cost 2
        line("O9901", 1, "P1", "1", "10.00"),
    ])

    write_tickets(root, "2024-06-25", [
        ticket("T1", at("2023-03-10"), customer_id="C1", ticket_type="complaint", status="solved",
               first_response_at=at("2023-03-10", "06:00:00"), solved_at=at("2023-03-11")),
        ticket("T2", at("2023-03-20"), ticket_type="complaint", status="open",  # no key: unmatched
               first_response_at=at("2023-03-20", "08:00:00")),
        ticket("T3", at("2024-06-10"), email="C8@Example.com ", ticket_type="question", status="pending",
               first_response_at=at("2024-06-10", "05:00:00")),
        ticket("T4", at("2021-12-05"), customer_id="C99", ticket_type="question"),  # unknown: unmatched
        ticket("T5", at("2024-06-25"), customer_id="C1", ticket_type="complaint"),  # after D
    ])

    write_csv(root, "responses", "2024-06-25", [
        response("R1", at("2023-03-20"), customer_id="C1", nps=10, csat=5, category_spend_12m="400.00"),
        response("R2", at("2023-03-25"), email="nobody@example.com", nps=3, csat=2,
                 category_spend_12m="100.00"),  # unmatched
        response("R3", at("2024-06-15"), email="c8@example.com", nps=8, csat=4, category_spend_12m="50.00"),
        response("R4", at("2024-01-05"), customer_id="C3", nps=9, category_spend_12m="100.00"),
        response("R5", at("2023-03-05"), customer_id="C2", nps=6, csat=3),
        response("R6", at("2024-06-25"), customer_id="C4", nps=10, csat=5),  # after D
        response("R7", at("2021-11-25"), customer_id="C99", nps=7, csat=4),  # unmatched
    ])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("time_marts")
    write_sources(root / "sources")
    target = root / "warehouse" / "c360.duckdb"
    refresh = run_refresh(root / "sources", target, as_of=AS_OF, timezone=TIMEZONE)
    assert refresh.returncode == 0, refresh.output
    return target


def work_file(warehouse: Path) -> Path:
    """The refresh's working file, which still holds the intermediate tables."""
    return warehouse.with_name(warehouse.stem + ".work.duckdb")


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_tier_history_from_every_version(warehouse):
    rows = query(work_file(warehouse), """
        select customer_id, tier_spell_number, tier, is_upgrade, valid_from_date, valid_to_date
        from intermediate.int_customer_tiers_historized order by customer_id, tier_spell_number
    """)
    got = [(r["customer_id"], r["tier_spell_number"], r["tier"], r["is_upgrade"], r["valid_from_date"],
            r["valid_to_date"]) for r in rows]
    assert got == [
        ("C1", 1, "standard", False, d("2022-01-01"), d("2023-03-14")),
        ("C1", 2, "gold", True, d("2023-03-15"), None),
        # C2: four versions from one extract, in updated_at order (not line order).
        ("C2", 1, "standard", False, d("2023-01-01"), d("2023-06-09")),
        ("C2", 2, "gold", True, d("2023-06-10"), d("2023-08-31")),
        ("C2", 3, "standard", False, d("2023-09-01"), d("2024-03-04")),
        ("C2", 4, "gold", True, d("2024-03-05"), None),
        # C3: the day 2023-05-01 ends standard; gold from 2024-01-01 local (2023-12-31T20:00Z).
        ("C3", 1, "standard", False, d("2023-05-01"), d("2023-12-31")),
        ("C3", 2, "gold", True, d("2024-01-01"), None),
        ("C4", 1, "standard", False, d("2022-01-01"), None),
        ("C5", 1, "standard", False, d("2022-01-01"), d("2024-06-24")),
        ("C5", 2, "gold", True, d("2024-06-25"), None),  # after D
        ("C6", 1, "standard", False, d("2022-01-01"), None),
        ("C7", 1, "gold", False, d("2024-05-01"), None),
        ("C8", 1, "standard", False, d("2022-01-01"), None),
    ]


def test_churn_and_reactivation_events(warehouse):
    rows = query(work_file(warehouse), """
        select customer_id, event_type, event_date, last_purchase_date
        from intermediate.int_customer_churn_events order by customer_id, event_date, event_type
    """)
    got = [(r["customer_id"], r["event_type"], r["event_date"], r["last_purchase_date"]) for r in rows]
    assert got == [
        # C1: 2023-01-10 -> 2024-02-01 is 387 days: churn on 2023-01-10 + 365, win-back on 2024-02-01.
        ("C1", "churn", d("2024-01-10"), d("2023-01-10")),
        ("C1", "reactivation", d("2024-02-01"), d("2023-01-10")),
        # C4: 2022-06-21 -> 2023-06-21 is exactly 365 days (no churn); 2023-06-21 + 365 = 2024-06-20 = D.
        ("C4", "churn", d("2024-06-20"), d("2023-06-21")),
        # C5: 366 days (churn 2023-03-01, win-back 2023-03-02); then 365 days to 2024-03-01: nothing.
        ("C5", "churn", d("2023-03-01"), d("2022-03-01")),
        ("C5", "reactivation", d("2023-03-02"), d("2022-03-01")),
        # C2 (2024-04-10), C3 (2024-01-01), C6 (2023-06-22 -> 2024-06-21 > D), C7 (2023-10-15): none yet.
    ]


def test_retention_by_year(warehouse):
    rows = query(warehouse, "select * from marts.retention_by_year order by year, tier")
    got = {(r["year"], r["tier"]): (r["is_partial"], r["tier_as_of_date"], r["active_customers"],
                                    r["customers_3plus"], r["repeat_rate_3plus"], r["prior_year_active"],
                                    r["retained_customers"], r["retention_rate"]) for r in rows}
    # Purchases per year (known customers, completed, <= D; O303 returned, O106 after D, C99 unknown):
    #   2022: C1 x3, C4 x1, C5 x1
    #   2023: C1 x1, C2 x2, C3 x2 (O301, O304), C4 x1, C5 x1, C6 x2 (one date), C7 x3
    #   2024: C1 (O105), C2 (O203), C3 (O302 at 2024-01-01 local), C5 (O503)
    # Tier at 2022-12-31: C7 gold (earliest known tier), everyone else standard.
    # Tier at 2023-12-31: C1, C7 gold; C2 (downgraded 2023-09-01), C3, C4, C5, C6 standard.
    # Tier at D 2024-06-20: C1, C2, C3, C7 gold; C4, C5 (gold only from 2024-06-25), C6 standard.
    assert got == {
        # 2022 standard: active C1, C4, C5; 3plus C1 -> 1/3. Nobody was active in 2021.
        (2022, "standard"): (False, d("2022-12-31"), 3, 1, pytest.approx(1 / 3), 0, 0, None),
        # 2022 gold: C7 only, not active that year: a row of zeros, rates null.
        (2022, "gold"): (False, d("2022-12-31"), 0, 0, None, 0, 0, None),
        (2022, "all"): (False, d("2022-12-31"), 3, 1, pytest.approx(1 / 3), 0, 0, None),
        # 2023 gold: C1 (1 purchase), C7 (3): 1/2; prior: C1 only; retained C1 -> 1.
        (2023, "gold"): (False, d("2023-12-31"), 2, 1, 0.5, 1, 1, 1.0),
        # 2023 standard: C2, C3, C4, C5, C6 all active, none 3plus; prior C4, C5, both retained.
        (2023, "standard"): (False, d("2023-12-31"), 5, 0, 0.0, 2, 2, 1.0),
        (2023, "all"): (False, d("2023-12-31"), 7, 1, pytest.approx(1 / 7), 3, 3, 1.0),
        # 2024 gold: C1, C2, C3, C7 (all active 2023); active now C1, C2, C3 -> 3/4.
        (2024, "gold"): (True, d("2024-06-20"), 3, 0, 0.0, 4, 3, 0.75),
        # 2024 standard: C4, C5, C6 (all active 2023); active now C5 -> 1/3.
        (2024, "standard"): (True, d("2024-06-20"), 1, 0, 0.0, 3, 1, pytest.approx(1 / 3)),
        (2024, "all"): (True, d("2024-06-20"), 4, 0, 0.0, 7, 4, pytest.approx(4 / 7)),
    }


def test_cohort_retention(warehouse):
    rows = query(warehouse, "select * from marts.cohort_retention order by cohort_month, months_since_first")
    # First purchase months (one customer each): C1 2022-02, C5 2022-03, C4 2022-06, C2 2023-01,
    # C3 2023-05, C6 2023-06, C7 2023-08. Rows run to D's month 2024-06:
    # 29 + 28 + 25 + 18 + 14 + 13 + 11 = 138.
    assert len(rows) == 138
    sizes = {r["cohort_month"]: r["cohort_size"] for r in rows}
    assert sizes == {d(m): 1 for m in ("2022-02-01", "2022-03-01", "2022-06-01", "2023-01-01", "2023-05-01",
                                       "2023-06-01", "2023-08-01")}
    last = {}
    for r in rows:
        last[r["cohort_month"]] = max(last.get(r["cohort_month"], -1), r["months_since_first"])
        assert r["activity_month"].year * 12 + r["activity_month"].month == (
            r["cohort_month"].year * 12 + r["cohort_month"].month + r["months_since_first"])
    assert last[d("2022-02-01")] == 28 and last[d("2023-08-01")] == 10
    active = {(r["cohort_month"].isoformat()[:7], r["months_since_first"]) for r in rows if r["active_customers"]}
    assert active == {
        ("2022-02", 0), ("2022-02", 3), ("2022-02", 6), ("2022-02", 11), ("2022-02", 24),  # C1
        ("2022-03", 0), ("2022-03", 12), ("2022-03", 24),  # C5
        ("2022-06", 0), ("2022-06", 12),  # C4
        ("2023-01", 0), ("2023-01", 6), ("2023-01", 15),  # C2
        ("2023-05", 0), ("2023-05", 3), ("2023-05", 8),  # C3 (O303 returned in 2023-06: not active)
        ("2023-06", 0),  # C6
        ("2023-08", 0), ("2023-08", 1), ("2023-08", 2),  # C7
    }
    for r in rows:  # cohorts of one: the rate is 1 or 0
        assert r["retention_rate"] == (1.0 if r["active_customers"] == 1 else 0.0)
        assert r["active_customers"] in (0, 1)


def test_customer_timeline(warehouse):
    rows = query(warehouse, """
        select customer_id, event_sequence, event_type, event_id, event_date, detail
        from marts.customer_timeline order by customer_id, event_sequence
    """)
    got = [(r["customer_id"], r["event_sequence"], r["event_type"], r["event_id"], r["detail"]) for r in rows]
    assert got == [
        ("C1", 1, "order", "O101", "completed, 100.00"),
        ("C1", 2, "order", "O102", "completed, 50.00"),
        ("C1", 3, "order", "O103", "completed, 30.00"),
        ("C1", 4, "order", "O104", "completed, 50.00"),  # 40 + 10
        ("C1", 5, "ticket", "T1", "complaint, solved"),
        ("C1", 6, "survey", "R1", "nps 10, csat 5"),
        ("C1", 7, "order", "O105", "completed, 20.00"),
        # Same instant 2024-06-25T04:00Z: order before ticket. Events after D are listed.
        ("C1", 8, "order", "O106", "completed, 10.00"),
        ("C1", 9, "ticket", "T5", "complaint, open"),
        ("C2", 1, "order", "O201", "completed, 120.00"),
        ("C2", 2, "survey", "R5", "nps 6, csat 3"),
        ("C2", 3, "order", "O202", "completed, 30.00"),
        ("C2", 4, "order", "O203", "completed, 25.00"),  # 2 x 15 - 5
        ("C3", 1, "order", "O301", "completed, 80.00"),
        ("C3", 2, "order", "O303", "returned, 999.00"),  # cancelled -> completed -> returned: latest
        ("C3", 3, "order", "O304", "completed, 20.00"),  # cancelled -> completed
        ("C3", 4, "order", "O302", "completed, 50.00"),
        ("C3", 5, "survey", "R4", "nps 9, csat none"),
        ("C4", 1, "order", "O401", "completed, 10.00"),
        ("C4", 2, "order", "O402", "completed, 10.00"),
        ("C4", 3, "survey", "R6", "nps 10, csat 5"),
        ("C5", 1, "order", "O501", "completed, 10.00"),
        ("C5", 2, "order", "O502", "completed, 10.00"),
        ("C5", 3, "order", "O503", "completed, 10.00"),
        ("C6", 1, "order", "O601", "completed, 10.00"),
        ("C6", 2, "order", "O602", "completed, 5.00"),
        ("C7", 1, "order", "O701", "completed, 10.00"),  # the customer arrived later: its orders join
        ("C7", 2, "order", "O702", "completed, 10.00"),
        ("C7", 3, "order", "O703", "completed, 10.00"),
        ("C8", 1, "ticket", "T3", "question, pending"),  # matched by email, trimmed and lower-cased
        ("C8", 2, "survey", "R3", "nps 8, csat 4"),
    ]
    # Unmatched T2, T4, R2, R7 and the unknown customer's O9901 are not here.
    by_id = {r["event_id"]: r for r in rows}
    assert by_id["O302"]["event_date"] == d("2024-01-01")  # 2023-12-31T17:00Z is 01:00 in Shanghai
    detail = query(warehouse, """
        select order_status, order_amount, ticket_type, ticket_status, nps, csat, event_at
        from marts.customer_timeline where event_id in ('O303', 'T1', 'R4') order by event_id
    """)
    assert detail == [
        {"order_status": "returned", "order_amount": 999.0, "ticket_type": None, "ticket_status": None,
         "nps": None, "csat": None, "event_at": datetime(2023, 6, 1, 4, 0)},
        {"order_status": None, "order_amount": None, "ticket_type": None, "ticket_status": None,
         "nps": 9, "csat": None, "event_at": datetime(2024, 1, 5, 4, 0)},
        {"order_status": None, "order_amount": None, "ticket_type": "complaint", "ticket_status": "solved",
         "nps": None, "csat": None, "event_at": datetime(2023, 3, 10, 4, 0)},
    ]


EMPTY_MONTH = {
    "is_partial": False, "new_customers": 0, "active_customers": 0, "churned_customers": 0,
    "reactivated_customers": 0, "upgraded_customers": 0, "revenue": 0.0, "gross_margin": 0.0,
    "revenue_without_cost": 0.0, "avg_margin_per_active_customer": None, "cross_sell_revenue": 0.0,
    "cross_sell_ratio": None,
    "nps_promoters": 0, "nps_detractors": 0, "nps_responses": 0, "nps": None, "csat_top2_responses": 0,
    "csat_5_responses": 0, "csat_responses": 0, "csat_top2_pct": None, "completely_satisfied_pct": None,
    "share_of_wallet_responses": 0, "share_of_wallet_sum": 0.0, "avg_share_of_wallet": None, "complaints": 0,
    "median_first_response_hours": None,
}


def purchases(new=0, active=0, revenue=0.0, margin=0.0, cross_sell=0.0) -> dict:
    """Purchase figures of a month; ratios from their parts (null when the denominator is 0)."""
    return {"new_customers": new, "active_customers": active, "revenue": revenue, "gross_margin": margin,
            "avg_margin_per_active_customer": margin / active if active else None,
            "cross_sell_revenue": cross_sell, "cross_sell_ratio": cross_sell / revenue if revenue else None}


def responses(promoters=0, detractors=0, nps_count=0, top2=0, fives=0, csat_count=0) -> dict:
    return {"nps_promoters": promoters, "nps_detractors": detractors, "nps_responses": nps_count,
            "nps": 100 * (promoters - detractors) / nps_count if nps_count else None,
            "csat_top2_responses": top2, "csat_5_responses": fives, "csat_responses": csat_count,
            "csat_top2_pct": 100 * top2 / csat_count if csat_count else None,
            "completely_satisfied_pct": 100 * fives / csat_count if csat_count else None}


def wallets(count, total) -> dict:
    return {"share_of_wallet_responses": count, "share_of_wallet_sum": total, "avg_share_of_wallet": total / count}


def test_kpi_monthly(warehouse):
    rows = query(warehouse, "select * from marts.kpi_monthly order by month")
    # The grid opens in 2021-11, the month of the earliest accepted order (O9901, whose customer
    # never arrived) and response (R7, unmatched), and runs to D's month 2024-06: 32 months.
    assert [r["month"] for r in rows][0] == d("2021-11-01")
    assert len(rows) == 32 and rows[-1]["month"] == d("2024-06-01")
    # Anchors: C1 alpha, C2 alpha (60 alpha vs 60 beta in O201: tie by name), C3 gamma, C4 alpha,
    # C5 beta, C6 alpha (O601 is its first purchase by time), C7 alpha.
    expected = {
        # R7 (unmatched): nps 7 (passive), csat 4.
        "2021-11": responses(nps_count=1, top2=1, csat_count=1),
        # T4 (unmatched question, never answered): no complaint, no response time.
        "2021-12": {},
        "2022-02": purchases(new=1, active=1, revenue=100, margin=96),  # O101 C1
        "2022-03": purchases(new=1, active=1, revenue=10, margin=8),  # O501 C5 (its anchor beta)
        "2022-05": purchases(active=1, revenue=50, margin=46, cross_sell=50),  # O102 beta, C1 anchor alpha
        "2022-06": purchases(new=1, active=1, revenue=10, margin=6),  # O401 C4
        "2022-08": purchases(active=1, revenue=30, margin=26),  # O103 alpha
        # O104 C1 (alpha 40 + gamma 10, cost 5) and O201 C2 (beta 60 + alpha 60, cost 6):
        # cross-sell gamma 10 + beta 60.
        "2023-01": purchases(new=1, active=2, revenue=170, margin=159, cross_sell=70),
        # O502 C5; churn and win-back of C5; C1 upgraded 2023-03-15; R5 (6, 3), R1 (10, 5), R2 (3, 2,
        # unmatched): promoters 1, detractors 2; csat top2 1, fives 1 of 3; T1 2 h and T2 4 h
        # (unmatched), both complaints. Share of wallet R1: C1's revenue 2022-03-21 … 2023-03-20 is
        # O102 50 + O103 30 + O104 50 = 130, / 400 = 0.325.
        "2023-03": {**purchases(active=1, revenue=10, margin=8), "churned_customers": 1,
                    "reactivated_customers": 1, "upgraded_customers": 1,
                    **responses(promoters=1, detractors=2, nps_count=3, top2=1, fives=1, csat_count=3),
                    **wallets(1, 0.325), "complaints": 2, "median_first_response_hours": 3.0},
        "2023-05": purchases(new=1, active=1, revenue=80, margin=79),  # O301 C3 (O303 returned in 06)
        # O402 C4 (10, 6), O601 + O602 C6 (10 + 5, margin 6 + 4; O602 gamma is cross-sell);
        # C2 upgraded 2023-06-10.
        "2023-06": {**purchases(new=1, active=2, revenue=25, margin=16, cross_sell=5), "upgraded_customers": 1},
        "2023-07": purchases(active=1, revenue=30, margin=28, cross_sell=30),  # O202 beta, C2 anchor alpha
        "2023-08": purchases(new=1, active=2, revenue=30, margin=25),  # O304 C3 gamma, O701 C7 alpha
        "2023-09": purchases(active=1, revenue=10, margin=6),  # O702
        "2023-10": purchases(active=1, revenue=10, margin=8, cross_sell=10),  # O703 beta
        # O302 C3 (alpha 50, line cost 10) at 01:00 local on 2024-01-01; C1 churned 2024-01-10;
        # C3 upgraded 2024-01-01 local. R4 (nps 9, no csat): C3's revenue 2023-01-06 … 2024-01-05 is
        # 80 + 20 + 50 = 150 / 100 -> capped at 1.
        "2024-01": {**purchases(active=1, revenue=50, margin=40, cross_sell=50), "churned_customers": 1,
                    "upgraded_customers": 1, **responses(promoters=1, nps_count=1), **wallets(1, 1.0)},
        "2024-02": {**purchases(active=1, revenue=20, margin=18, cross_sell=20), "reactivated_customers": 1},
        # O503 C5: 365 days after O502, no win-back; C2 upgraded 2024-03-05.
        "2024-03": {**purchases(active=1, revenue=10, margin=8), "upgraded_customers": 1},
        "2024-04": purchases(active=1, revenue=25, margin=23, cross_sell=25),  # O203 gamma
        # D's month: C4 churned on D; C6's churn (2024-06-21), C5's upgrade, O106, T5, R6 fall after D.
        # T3 (C8, 1 h, question); R3 (C8, nps 8, csat 4, share of wallet 0 / 50 = 0).
        "2024-06": {"is_partial": True, "churned_customers": 1, "median_first_response_hours": 1.0,
                    **responses(nps_count=1, top2=1, csat_count=1), **wallets(1, 0.0)},
    }
    for row in rows:
        month = row.pop("month").isoformat()[:7]
        want = {**EMPTY_MONTH, **expected.get(month, {})}
        assert row == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in want.items()}, month
