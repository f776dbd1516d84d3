"""End to end through `c360 refresh`: every column of marts.customer_360 and marts.category_affinity
against numbers computed by hand on one small source set.

D = 2024-06-30, time zone UTC: the 365-day window is 2023-07-02 .. 2024-06-30 (2024 is a leap year,
so 2023-07-01 is exactly 365 days before D). Products and their unit costs:
Books PB 2.00, Games PG 3.00, Toys PT 1.00, Music PM 4.00, PX without a category 1.00, Music PQ
without a cost; PZ is a product the ERP does not know. Line cost (metrics.md) = quantity × the
line's unit_cost, else the product's; a line with neither (M's PZ and PQ lines without a line cost)
has an unknown cost: its revenue counts, but it adds nothing to gross margin.

Customers (ERP): A, B, C, G, M, N, P. Orders of U, a customer the ERP does not know, never count.
"""

from datetime import date, datetime

import pytest

from .conftest import query, rows_by, run_refresh
from .sources import customer, line, order, product, response, ticket, write_csv, write_tickets

AS_OF = "2024-06-30"


def _write_sources(root):
    write_csv(root, "customers", "2024-01-01", [
        customer("A"), customer("B", email="b@example.com"), customer("C"), customer("G"),
        customer("M"), customer("N"), customer("P"),
    ])
    write_csv(root, "products", "2024-01-01", [
        product("PB", "Books", unit_cost="2.00"),
        product("PG", "Games", unit_cost="3.00"),
        product("PT", "Toys", unit_cost="1.00"),
        product("PM", "Music", unit_cost="4.00"),
        product("PX", "", unit_cost="1.00"),
        product("PQ", "Music", unit_cost=""),
    ])
    write_csv(root, "orders", "2024-07-01", [
        # A: first purchase OA1 (Books 20 and Games 20 tie -> anchor Books); OA2 later the same
        # day (Toys 100) is not the first purchase. OA5 cancelled and OA6 returned never count.
        order("OA1", "A", "2024-01-01T10:00:00Z"),
        order("OA2", "A", "2024-01-01T15:00:00Z"),
        order("OA3", "A", "2024-01-11T10:00:00Z"),
        order("OA4", "A", "2024-01-26T10:00:00Z"),
        order("OA5", "A", "2024-03-01T10:00:00Z", status="cancelled"),
        order("OA6", "A", "2024-04-01T10:00:00Z", status="returned"),
        order("OB1", "B", "2023-07-01T12:00:00Z"),  # D - 365: churned, outside the window
        order("OC1", "C", "2023-07-02T12:00:00Z"),  # D - 364: inside, not churned
        order("OM1", "M", "2024-04-21T10:00:00Z"),
        order("OM2", "M", "2024-05-11T10:00:00Z"),
        order("OM3", "M", "2024-05-31T10:00:00Z"),
        order("ON1", "N", "2024-05-10T10:00:00Z"),
        order("ON2", "N", "2024-05-30T10:00:00Z"),
        order("OG1", "G", "2024-06-20T10:00:00Z"),
        order("OG2", "G", "2024-06-29T08:00:00Z"),
        order("OG3", "G", "2024-06-29T09:00:00Z"),
        order("OP1", "P", "2024-06-01T10:00:00Z", status="cancelled"),
        order("OP2", "P", "2024-07-01T10:00:00Z"),  # after D
        order("OU1", "U", "2024-06-01T10:00:00Z"),  # unknown customer
    ])
    write_csv(root, "order_lines", "2024-07-01", [
        line("OA1", 1, "PB", 2, "10.00"),                  # 20, cost 4
        line("OA1", 2, "PG", 1, "20.00"),                  # 20, cost 3
        line("OA2", 1, "PT", 1, "100.00"),                 # 100, cost 1
        line("OA3", 1, "PG", 1, "30.00", "5.00", "2.50"),  # 25, cost 2.50 (the line's)
        line("OA4", 1, "PB", 1, "15.00"),                  # 15, cost 2
        line("OA5", 1, "PM", 1, "1000.00"),
        line("OA6", 1, "PM", 1, "500.00"),
        line("OB1", 1, "PB", 1, "50.00"),                  # 50, cost 2
        line("OC1", 1, "PG", 1, "40.00"),                  # 40, cost 3
        line("OM1", 1, "PM", 1, "10.00"),                  # 10, cost 4
        line("OM1", 2, "PX", 1, "5.00"),                   # 5, cost 1, no category
        line("OM2", 1, "PB", 1, "10.00"),                  # 10, cost 2
        line("OM2", 2, "PZ", 1, "1.50"),                   # 1.50, unknown product: cost unknown
        line("OM3", 1, "PM", 1, "10.00"),                  # 10, cost 4
        line("OM3", 2, "PQ", 1, "2.00"),                   # 2, Music, product without cost: unknown
        line("OM3", 3, "PZ", 2, "0.50", "0", "0.25"),      # 1, unknown product, the line's cost 0.50
        line("ON1", 1, "PX", 1, "8.00"),                   # 8, cost 1, no category
        line("ON2", 1, "PT", 1, "12.00"),                  # 12, cost 1
        line("OG1", 1, "PG", 1, "10.00"),                  # 10, cost 3
        line("OG2", 1, "PB", 1, "10.00"),                  # 10, cost 2
        line("OG3", 1, "PT", 1, "20.00"),                  # 20, cost 1
        line("OP1", 1, "PB", 1, "10.00"),
        line("OP2", 1, "PB", 1, "10.00"),
        line("OU1", 1, "PM", 1, "10.00"),
    ])
    write_tickets(root, "2024-07-01", [
        ticket("T1", "2023-07-01T10:00:00Z", customer_id="A", ticket_type="complaint", status="open"),
        ticket("T2", "2023-07-02T00:00:00Z", customer_id="A", ticket_type="complaint", status="solved",
               first_response_at="2023-07-02T02:00:00Z", solved_at="2023-07-02T10:00:00Z"),
        ticket("T3", "2024-06-30T10:00:00Z", customer_id="A", status="pending",
               first_response_at="2024-06-30T14:00:00Z"),
        ticket("T4", "2024-06-30T20:00:00Z", customer_id="A", ticket_type="incident", status="new"),
        ticket("T5", "2024-07-01T10:00:00Z", customer_id="A", ticket_type="complaint", status="open"),
        ticket("T6", "2024-01-01T10:00:00Z", email="B@example.com", ticket_type="return", status="closed",
               first_response_at="2024-01-01T10:30:00Z", solved_at="2024-01-01T11:30:00Z"),
        ticket("T7", "2024-01-01T10:00:00Z", email="nobody@example.com", ticket_type="complaint"),
    ])
    write_csv(root, "responses", "2024-07-01", [
        response("R1", "2024-03-01T10:00:00Z", customer_id="A", nps=10, csat=4, category_spend_12m="400",
                 reliability=5, tangibles=1),
        response("R2", "2024-05-01T10:00:00Z", customer_id="A", nps=7, csat=3, category_spend_12m="100",
                 reliability=2, assurance=4),
        response("R3", "2024-05-01T10:00:00Z", customer_id="A", csat=5, category_spend_12m="200", assurance=5),
        response("R4", "2024-07-01T10:00:00Z", customer_id="A", nps=0, csat=1, category_spend_12m="1",
                 reliability=1),
        response("R5", "2023-07-01T10:00:00Z", email="b@example.com", nps=3, csat=2, category_spend_12m="10"),
        response("R6", "2024-06-30T23:00:00Z", email="b@example.com", nps=9),
        response("R7", "2023-07-02T10:00:00Z", customer_id="C", csat=5, category_spend_12m="30"),
        response("R8", "2024-06-29T12:00:00Z", customer_id="G", nps=6, category_spend_12m="0"),
        response("R9", "2024-06-10T10:00:00Z", customer_id="M", nps=8, reliability=3, empathy=4,
                 responsiveness=5),
        response("R10", "2024-06-01T10:00:00Z", customer_id="N", nps=0, csat=1, category_spend_12m="1000"),
        response("R11", "2024-06-01T10:00:00Z", email="nobody@example.com", nps=10, csat=5,
                 category_spend_12m="10"),
        response("R12", "2024-06-15T10:00:00Z", customer_id="P", nps=10, csat=5, category_spend_12m="50"),
    ])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    base = tmp_path_factory.mktemp("customer_360_metrics")
    source, warehouse = base / "sources", base / "warehouse" / "c360.duckdb"
    _write_sources(source)
    refresh = run_refresh(source, warehouse, as_of=AS_OF)
    assert refresh.returncode == 0, refresh.output
    return warehouse


def _erp(customer_id, email=None):
    return {"customer_id": customer_id, "name": f"Name {customer_id}", "email": email, "phone": None,
            "tier": "standard", "region": "north", "acquisition_channel": "web", "sales_rep_id": "R1",
            "created_at": datetime(2023, 1, 1)}


NO_SERVICE = {"tickets_12m": 0, "complaints_12m": 0, "open_tickets": 0,
              "median_first_response_hours_12m": None, "median_resolution_hours_12m": None}
NO_SERVQUAL = {f"servqual_{d}": None for d in ("reliability", "assurance", "tangibles", "empathy", "responsiveness")}

# Category purchasers (known customers, completed orders up to D, lines with a category):
#   Books: A, B, G, M (4); Games: A, C, G (3); Toys: A, G, N (3); Music: M (1; U's order does not count).
# Purchasers: A, B, C, G, M, N = 6. lift(X -> Y) = both × 6 / (customers_X × customers_Y).
# RFM over the 6 purchasers; ntile(5) of 6 rows gives tiles 1, 1, 2, 3, 4, 5 in order:
#   recency  (last date, id): B 2023-07-01, C 2023-07-02, A 2024-01-26, N 2024-05-30, M 2024-05-31, G 2024-06-29
#   frequency (purchases_12m, id): B 0, C 1, N 2, G 3, M 3, A 4
#   monetary (net_revenue_12m, id): B 0, N 20, M 39.50, C 40, G 40, A 180
# Top 20 %: ceil(0.2 × 6) = 2 by revenue desc, then id: A (180), C (40; G also 40 but C < G).
EXPECTED_CUSTOMERS = {
    "A": {
        **_erp("A"),
        # Purchases OA1 (40), OA2 (100), OA3 (25), OA4 (15); OA5 cancelled, OA6 returned.
        "first_purchase_date": date(2024, 1, 1), "last_purchase_date": date(2024, 1, 26),
        "purchases_lifetime": 4, "purchases_12m": 4,
        "net_revenue_lifetime": 180.0, "net_revenue_12m": 180.0,
        "gross_margin_lifetime": 167.5,  # 180 - (4 + 3 + 1 + 2.50 + 2)
        "revenue_without_cost_lifetime": 0.0,  # every line has a known cost
        "avg_order_value": 45.0,  # 180 / 4
        "days_since_last_purchase": 156,  # 2024-01-26 -> 2024-06-30: 5 + 29 + 31 + 30 + 31 + 30
        # Distinct dates 01-01, 01-11, 01-26: gaps 10, 15 -> median 12.5 -> 13 days after 01-26.
        "median_days_between_purchases": 12.5, "expected_next_purchase_date": date(2024, 2, 8),
        "churn_risk": "overdue",  # 156 > 1.5 × 12.5 = 18.75
        "lifecycle_stage": "declining",
        "categories_purchased": 3,  # Books, Games, Toys
        "anchor_category": "Books",  # OA1: Books 20 = Games 20 -> by name
        "cross_sell_revenue_lifetime": 145.0,  # Games 20 + 25, Toys 100
        "cross_sell_ratio": 145 / 180,
        "next_best_category": "Music",  # only Books -> Music (lift 1 × 6 / (4 × 1) = 1.5)
        # Latest spend response in the window: R2 and R3 share submitted_at -> R3 (greater id):
        # revenue 2023-05-03 .. 2024-05-01 = 180 / 200 = 0.9 (R2 would give 1.8 -> capped).
        "share_of_wallet": 0.9, "share_of_wallet_capped": False,
        "latest_nps": 7,  # R3 has no nps -> R2; R4 is after D
        "latest_csat": 5,  # R3
        "nps_group": "passive", "is_completely_satisfied": True,
        "servqual_reliability": 3.5,  # (5 + 2) / 2
        "servqual_assurance": 4.5,  # (4 + 5) / 2
        "servqual_tangibles": 1.0, "servqual_empathy": None, "servqual_responsiveness": None,
        "surveys_count": 3,  # R1, R2, R3
        # T1 on D - 365 (outside, still open), T2 on D - 364 (complaint, 2 h, 10 h), T3 pending
        # (4 h), T4 new; T5 after D.
        "tickets_12m": 3, "complaints_12m": 1, "open_tickets": 3,
        "median_first_response_hours_12m": 3.0,  # (2 + 4) / 2
        "median_resolution_hours_12m": 10.0,
        "rfm_recency": 2, "rfm_frequency": 5, "rfm_monetary": 5, "is_top_20pct": True,
    },
    "B": {
        **_erp("B", email="b@example.com"),
        "first_purchase_date": date(2023, 7, 1), "last_purchase_date": date(2023, 7, 1),
        "purchases_lifetime": 1, "purchases_12m": 0,
        "net_revenue_lifetime": 50.0, "net_revenue_12m": 0.0, "gross_margin_lifetime": 48.0,
        "revenue_without_cost_lifetime": 0.0,
        "avg_order_value": 50.0,
        "days_since_last_purchase": 365,
        "median_days_between_purchases": None, "expected_next_purchase_date": None,
        "churn_risk": "churned",  # exactly 365 days
        "lifecycle_stage": "churned",
        "categories_purchased": 1, "anchor_category": "Books",
        "cross_sell_revenue_lifetime": 0.0, "cross_sell_ratio": 0.0,
        "next_best_category": "Music",  # Games 1.0, Toys 1.0, Music 1.5
        "share_of_wallet": None, "share_of_wallet_capped": None,  # R5 is on D - 365
        "latest_nps": 9,  # R6 (matched by email)
        "latest_csat": 2,  # R5
        "nps_group": "promoter", "is_completely_satisfied": False,
        **NO_SERVQUAL,
        "surveys_count": 2,
        # T6 by email: 0.5 h to first response, 1.5 h to solved.
        "tickets_12m": 1, "complaints_12m": 0, "open_tickets": 0,
        "median_first_response_hours_12m": 0.5, "median_resolution_hours_12m": 1.5,
        "rfm_recency": 1, "rfm_frequency": 1, "rfm_monetary": 1, "is_top_20pct": False,
    },
    "C": {
        **_erp("C"),
        "first_purchase_date": date(2023, 7, 2), "last_purchase_date": date(2023, 7, 2),
        "purchases_lifetime": 1, "purchases_12m": 1,
        "net_revenue_lifetime": 40.0, "net_revenue_12m": 40.0, "gross_margin_lifetime": 37.0,
        "revenue_without_cost_lifetime": 0.0,
        "avg_order_value": 40.0,
        "days_since_last_purchase": 364,
        "median_days_between_purchases": None, "expected_next_purchase_date": None,
        "churn_risk": "ok",  # 364 days, no median -> never overdue
        "lifecycle_stage": "growth",
        "categories_purchased": 1, "anchor_category": "Games",
        "cross_sell_revenue_lifetime": 0.0, "cross_sell_ratio": 0.0,
        "next_best_category": "Toys",  # Books 2 × 6 / (3 × 4) = 1.0, Toys 2 × 6 / (3 × 3) = 4/3
        # R7 on D - 364; its window ends on 2023-07-02 and holds OC1 (40, same day) -> 40 / 30, capped.
        "share_of_wallet": 1.0, "share_of_wallet_capped": True,
        "latest_nps": None, "latest_csat": 5, "nps_group": None, "is_completely_satisfied": True,
        **NO_SERVQUAL,
        "surveys_count": 1,
        **NO_SERVICE,
        "rfm_recency": 1, "rfm_frequency": 1, "rfm_monetary": 3, "is_top_20pct": True,
    },
    "G": {
        **_erp("G"),
        "first_purchase_date": date(2024, 6, 20), "last_purchase_date": date(2024, 6, 29),
        "purchases_lifetime": 3, "purchases_12m": 3,
        "net_revenue_lifetime": 40.0, "net_revenue_12m": 40.0, "gross_margin_lifetime": 34.0,  # cost 3 + 2 + 1
        "revenue_without_cost_lifetime": 0.0,
        "avg_order_value": 40 / 3,
        "days_since_last_purchase": 1,
        # Distinct dates 06-20, 06-29 (two orders): gap 9 -> next 07-08.
        "median_days_between_purchases": 9.0, "expected_next_purchase_date": date(2024, 7, 8),
        "churn_risk": "ok", "lifecycle_stage": "mature",  # 3 purchases
        "categories_purchased": 3, "anchor_category": "Games",
        "cross_sell_revenue_lifetime": 30.0, "cross_sell_ratio": 0.75,  # Books 10 + Toys 20 of 40
        "next_best_category": "Music",
        "share_of_wallet": None, "share_of_wallet_capped": None,  # R8 has spend 0
        "latest_nps": 6, "latest_csat": None, "nps_group": "detractor", "is_completely_satisfied": None,
        **NO_SERVQUAL,
        "surveys_count": 1,
        **NO_SERVICE,
        "rfm_recency": 5, "rfm_frequency": 3, "rfm_monetary": 4, "is_top_20pct": False,
    },
    "M": {
        **_erp("M"),
        "first_purchase_date": date(2024, 4, 21), "last_purchase_date": date(2024, 5, 31),
        "purchases_lifetime": 3, "purchases_12m": 3,
        # Revenue OM1 10 + 5, OM2 10 + 1.50, OM3 10 + 2 + 1 = 39.50 (every line, known cost or not).
        "net_revenue_lifetime": 39.5, "net_revenue_12m": 39.5,
        # Lines with a known cost: (10 - 4) + (5 - 1) + (10 - 2) + (10 - 4) + (1 - 0.50) = 24.50.
        # (Taking the unknown costs as 0 would overstate it as 28.)
        "gross_margin_lifetime": 24.5,
        "revenue_without_cost_lifetime": 3.5,  # PZ 1.50 (unknown product) + PQ 2 (product without cost)
        "avg_order_value": 39.5 / 3,
        "days_since_last_purchase": 30,
        # Gaps 20, 20 -> median 20; 30 days = 1.5 × 20 exactly -> not overdue.
        "median_days_between_purchases": 20.0, "expected_next_purchase_date": date(2024, 6, 20),
        "churn_risk": "ok", "lifecycle_stage": "mature",
        "categories_purchased": 2,  # Music (PM, PQ), Books (PX and PZ have no category)
        "anchor_category": "Music",
        "cross_sell_revenue_lifetime": 10.0,  # Books 10; uncategorised 5, 1.50, 1 and Music PQ are not
        "cross_sell_ratio": 10 / 39.5,
        "next_best_category": "Games",  # Games and Toys both lift 1.0, 2 customers -> by name
        "share_of_wallet": None, "share_of_wallet_capped": None,  # R9 has no spend
        "latest_nps": 8, "latest_csat": None, "nps_group": "passive", "is_completely_satisfied": None,
        "servqual_reliability": 3.0, "servqual_assurance": None, "servqual_tangibles": None,
        "servqual_empathy": 4.0, "servqual_responsiveness": 5.0,
        "surveys_count": 1,
        **NO_SERVICE,
        "rfm_recency": 4, "rfm_frequency": 4, "rfm_monetary": 2, "is_top_20pct": False,
    },
    "N": {
        **_erp("N"),
        "first_purchase_date": date(2024, 5, 10), "last_purchase_date": date(2024, 5, 30),
        "purchases_lifetime": 2, "purchases_12m": 2,
        "net_revenue_lifetime": 20.0, "net_revenue_12m": 20.0, "gross_margin_lifetime": 18.0,
        "revenue_without_cost_lifetime": 0.0,
        "avg_order_value": 10.0,
        "days_since_last_purchase": 31,
        "median_days_between_purchases": 20.0, "expected_next_purchase_date": date(2024, 6, 19),
        "churn_risk": "overdue",  # 31 > 30
        "lifecycle_stage": "declining",
        "categories_purchased": 1,  # Toys
        "anchor_category": None,  # the first purchase has only an uncategorised line
        "cross_sell_revenue_lifetime": 0.0, "cross_sell_ratio": 0.0,
        "next_best_category": "Games",  # Books 1.0, Games 4/3
        "share_of_wallet": 0.02, "share_of_wallet_capped": False,  # (8 + 12) / 1000
        "latest_nps": 0, "latest_csat": 1, "nps_group": "detractor", "is_completely_satisfied": False,
        **NO_SERVQUAL,
        "surveys_count": 1,
        **NO_SERVICE,
        "rfm_recency": 3, "rfm_frequency": 2, "rfm_monetary": 1, "is_top_20pct": False,
    },
    "P": {
        **_erp("P"),
        # OP1 cancelled, OP2 after D: no purchase.
        "first_purchase_date": None, "last_purchase_date": None,
        "purchases_lifetime": 0, "purchases_12m": 0,
        "net_revenue_lifetime": 0.0, "net_revenue_12m": 0.0, "gross_margin_lifetime": 0.0,
        "revenue_without_cost_lifetime": 0.0,  # a non-purchaser: 0, like the revenue and the margin
        "avg_order_value": None, "days_since_last_purchase": None,
        "median_days_between_purchases": None, "expected_next_purchase_date": None,
        "churn_risk": None, "lifecycle_stage": "prospect",
        "categories_purchased": 0, "anchor_category": None,
        "cross_sell_revenue_lifetime": 0.0, "cross_sell_ratio": None,
        "next_best_category": "Books",  # the category with the most purchasers (4)
        "share_of_wallet": 0.0, "share_of_wallet_capped": False,  # R12: 0 / 50
        "latest_nps": 10, "latest_csat": 5, "nps_group": "promoter", "is_completely_satisfied": True,
        **NO_SERVQUAL,
        "surveys_count": 1,
        **NO_SERVICE,
        "rfm_recency": None, "rfm_frequency": None, "rfm_monetary": None, "is_top_20pct": False,
    },
}

# Ordered pairs with at least one common purchaser (Games-Music and Toys-Music have none):
#   (A, B): customers_a, customers_b, customers_both, confidence = both / a, lift = both × 6 / (a × b)
EXPECTED_AFFINITY = {
    ("Books", "Games"): (4, 3, 2, 2 / 4, 1.0),  # A, G
    ("Games", "Books"): (3, 4, 2, 2 / 3, 1.0),
    ("Books", "Toys"): (4, 3, 2, 2 / 4, 1.0),  # A, G
    ("Toys", "Books"): (3, 4, 2, 2 / 3, 1.0),
    ("Books", "Music"): (4, 1, 1, 1 / 4, 1.5),  # M
    ("Music", "Books"): (1, 4, 1, 1 / 1, 1.5),
    ("Games", "Toys"): (3, 3, 2, 2 / 3, 4 / 3),  # A, G
    ("Toys", "Games"): (3, 3, 2, 2 / 3, 4 / 3),
}


def _same(actual, expected):
    """Equal value and Python type (bool is no int); doubles to 1e-12."""
    if expected is None:
        return actual is None
    if isinstance(expected, float):
        return isinstance(actual, float) and actual == pytest.approx(expected, abs=1e-12)
    return type(actual) is type(expected) and actual == expected


def test_customer_360_rows_are_the_known_customers(warehouse):
    rows = query(warehouse, "select customer_id from marts.customer_360")
    assert sorted(r["customer_id"] for r in rows) == sorted(EXPECTED_CUSTOMERS)  # no U


@pytest.mark.parametrize("customer_id", sorted(EXPECTED_CUSTOMERS))
def test_every_customer_360_column_matches_hand_calculation(warehouse, customer_id):
    row = rows_by(query(warehouse, "select * from marts.customer_360"), "customer_id")[customer_id]
    expected = EXPECTED_CUSTOMERS[customer_id]
    assert set(row) == set(expected)
    wrong = {k: (row[k], v) for k, v in expected.items() if not _same(row[k], v)}
    assert wrong == {}


def test_every_category_affinity_column_matches_hand_calculation(warehouse):
    rows = query(warehouse, "select * from marts.category_affinity")
    assert set(rows[0]) == {"category_a", "category_b", "customers_a", "customers_b", "customers_both",
                            "confidence", "lift"}
    actual = {(r["category_a"], r["category_b"]): r for r in rows}
    assert set(actual) == set(EXPECTED_AFFINITY)
    for pair, (customers_a, customers_b, customers_both, confidence, lift) in EXPECTED_AFFINITY.items():
        row = actual[pair]
        assert (row["customers_a"], row["customers_b"], row["customers_both"]) == (
            customers_a, customers_b, customers_both), pair
        assert row["confidence"] == pytest.approx(confidence, abs=1e-12), pair
        assert row["lift"] == pytest.approx(lift, abs=1e-12), pair


# kpi_monthly's purchase money per month (known customers' purchases up to D), from the lines above:
#   (month, active customers, revenue, gross margin (known-cost lines), revenue without cost)
#   2023-07: OB1 50 - 2, OC1 40 - 3                                    2, 90,   85,    0
#   2024-01: OA1 40 - 7, OA2 100 - 1, OA3 25 - 2.50, OA4 15 - 2        1, 180,  167.5, 0
#   2024-04: OM1 15 - 5 (OA6 returned)                                 1, 15,   10,    0
#   2024-05: OM2 (10 - 2, PZ 1.50 unknown), OM3 (10 - 4, PQ 2 unknown,
#            1 - 0.50), ON1 8 - 1, ON2 12 - 1                          2, 44.5, 32.5,  3.5
#   2024-06: OG1 10 - 3, OG2 10 - 2, OG3 20 - 1 (OP1 cancelled, OU1's
#            customer unknown)                                         1, 40,   34,    0
# avg_margin_per_active_customer = gross margin / active customers: 42.5, 167.5, 10, 16.25, 34.
# Other months from 2023-07 (OB1, T1, R5) to D's month: no purchases, 0 and a null average.
EXPECTED_MONTHLY_MARGIN = {
    date(2023, 7, 1): (90.0, 85.0, 0.0, 42.5),
    date(2024, 1, 1): (180.0, 167.5, 0.0, 167.5),
    date(2024, 4, 1): (15.0, 10.0, 0.0, 10.0),
    date(2024, 5, 1): (44.5, 32.5, 3.5, 16.25),
    date(2024, 6, 1): (40.0, 34.0, 0.0, 34.0),
}


def test_kpi_monthly_margin_counts_known_costs_only(warehouse):
    rows = query(warehouse, """
        select month, revenue, gross_margin, revenue_without_cost, avg_margin_per_active_customer
        from marts.kpi_monthly order by month
    """)
    assert [r["month"] for r in rows] == [date(2023, m, 1) for m in range(7, 13)] + [
        date(2024, m, 1) for m in range(1, 7)]
    for row in rows:
        expected = EXPECTED_MONTHLY_MARGIN.get(row["month"], (0.0, 0.0, 0.0, None))
        actual = (row["revenue"], row["gross_margin"], row["revenue_without_cost"],
                  row["avg_margin_per_active_customer"])
        assert all(_same(a, e) for a, e in zip(actual, expected)), (row["month"], actual, expected)
