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
