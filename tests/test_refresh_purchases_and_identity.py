"""End to end through `c360 refresh`: purchase columns of customer_360 and identity matching,
against numbers computed by hand. Two refreshes: the second brings late-arriving customers.

D = 2025-06-30, time zone UTC, so the 365-day window is 2024-07-01 .. 2025-06-30.
"""

import shutil

import pytest

from .conftest import query, rows_by, run_refresh
from .sources import customer, line, order, product, response, ticket, write_csv, write_tickets

AS_OF = "2025-06-30"


def _write_first_batch(root):
    write_csv(root, "customers", "2024-01-01", [
        customer("A", email="alice@example.com", phone="+8613800138000"),
        customer("B", email="info@shop.com", phone="+8613900139000"),
        customer("C", email="info@shop.com", phone="+8613700137000"),
        customer("D", email="bob@example.com", phone="+14155550100"),
        customer("E", phone="+8615000150000"),
        customer("F", phone="+8615000150000"),
    ])
    write_csv(root, "products", "2024-01-01", [
        product("P1", "Coffee", unit_cost="4.00"),
        product("P2", "Coffee", unit_cost="2.00"),
        product("P3", "Tea", unit_cost="5.00"),
    ])
    write_csv(root, "orders", "2024-01-10", [
        order("O1", "A", "2024-01-10T09:00:00Z"),
        order("O2", "A", "2024-06-30T23:00:00Z"),        # D-365: outside the window
        order("O3", "A", "2024-07-01T00:30:00+08:00"),   # = 2024-06-30T16:30Z: outside
        order("O4", "A", "2024-07-01T00:00:00Z", status="cancelled", updated_at="2024-07-02T00:00:00Z"),
        order("O10", "LATE", "2024-08-01T10:00:00Z"),    # its customer arrives in batch 2
        order("O11", "NOBODY", "2024-08-01T10:00:00Z"),  # a customer that never arrives
        order("O12", "A", "2024-08-01T10:00:00Z", status="shipped"),  # quarantined
    ])
    write_csv(root, "orders", "2025-07-01", [
        # Same updated_at as the cancelled copy: the later extract wins -> completed, in window.
        order("O4", "A", "2024-07-01T00:00:00Z", status="completed", updated_at="2024-07-02T00:00:00Z"),
        order("O5", "A", "2025-06-30T10:00:00Z"),        # on D: inside
        order("O6", "A", "2025-07-01T10:00:00Z"),        # after D: not counted
        order("O7", "A", "2025-01-01T10:00:00Z", status="cancelled"),
        order("O8", "A", "2025-02-01T10:00:00Z", updated_at="2025-02-01T10:00:00Z"),
        order("O8", "A", "2025-02-01T10:00:00Z", status="returned", updated_at="2025-02-05T10:00:00Z"),
        order("O9", "A", "2025-03-01T10:00:00Z", status="cancelled", updated_at="2025-03-01T10:00:00Z"),
        order("O9", "A", "2025-03-01T10:00:00Z", status="completed", updated_at="2025-03-02T10:00:00Z"),
    ])
    write_csv(root, "order_lines", "2024-01-10", [
        line("O1", 1, "P1", 2, "10.00", "1.00"),                   # 19.00, cost 8.00
        line("O1", 2, "P2", 1, "5.50", "", unit_cost="2.00"),       # 5.50, cost 2.00
        line("O2", 1, "P1", 1, "100.00"),                           # 100.00, cost 4.00
        line("O3", 1, "P1", 3, "10.00"),                            # 30.00, cost 12.00
        line("O4", 1, "P1", 1, "10.00"),                            # 10.00, cost 4.00
        line("O10", 1, "P3", 1, "7.25"),                            # 7.25, cost 5.00
        line("O11", 1, "P3", 1, "99.00"),
    ])
    write_csv(root, "order_lines", "2025-07-01", [
        line("O5", 1, "P2", 2, "5.50", "0.50"),                     # 10.50, cost 4.00 (product's)
        line("O6", 1, "P1", 1, "50.00"),
        line("O7", 1, "P1", 1, "50.00"),
        line("O8", 1, "P1", 1, "50.00"),
        line("O9", 1, "P3", 1, "20.00"),                            # 20.00, cost 5.00
    ])
    write_tickets(root, "2025-06-01", [
        ticket(1, "2025-06-01T00:00:00Z", customer_id="A"),
        ticket(2, "2025-06-01T00:00:00Z", email="  Alice@Example.COM "),
        ticket(3, "2025-06-01T00:00:00Z", phone="+86 138-0013-8000"),
        ticket(4, "2025-06-01T00:00:00Z", phone="13800138000"),
        ticket(5, "2025-06-01T00:00:00Z", email="info@shop.com"),
        ticket(6, "2025-06-01T00:00:00Z", email="INFO@shop.com", phone="137 0013 7000"),
        ticket("T-7", "2025-06-01T00:00:00Z", customer_id="C999"),
        ticket(8, "2025-06-01T00:00:00Z"),
        ticket(9, "2025-06-01T00:00:00Z", phone="+1 415 555 0100"),
        ticket(10, "2025-06-01T00:00:00Z", phone="4155550100"),  # no country code: +86..., nobody
        ticket(11, "2025-06-01T00:00:00Z", email="carol@example.com"),  # customer arrives later
        ticket(12, "2025-06-01T00:00:00Z", phone="not a phone"),
        ticket(13, "2025-06-01T00:00:00Z", customer_id="B", email="alice@example.com"),
        ticket(14, "2025-06-01T00:00:00Z", phone="150 0015 0000"),  # a phone shared by E and F
    ])
    write_csv(root, "responses", "2025-06-01", [
        response("R1", "2025-06-01T00:00:00Z", email=" BOB@example.com ", nps=9),
        response("R2", "2025-06-01T00:00:00Z", email="info@shop.com", nps=3),
        response("R3", "2025-06-01T00:00:00Z", nps=7),
    ])


def _write_second_batch(root):
    write_csv(root, "customers", "2025-07-01", [
        customer("LATE", email="late@example.com"),
        customer("G", email="carol@example.com"),
    ])


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    base = tmp_path_factory.mktemp("purchases_identity")
    source, warehouse = base / "sources", base / "warehouse" / "c360.duckdb"
    _write_first_batch(source)
    first = run_refresh(source, warehouse, as_of=AS_OF)
    assert first.returncode == 0, first.output
    snapshot = base / "first.duckdb"
    shutil.copyfile(warehouse, snapshot)
    _write_second_batch(source)
    second = run_refresh(source, warehouse, as_of=AS_OF)
    assert second.returncode == 0, second.output
    return {"first": snapshot, "second": warehouse, "output": second.output}


def test_purchase_columns_match_hand_calculation(refreshed):
    rows = rows_by(query(refreshed["second"], "select * from marts.customer_360"), "customer_id")
    a = rows["A"]
    # Purchases: O1, O2, O3, O4 (tie -> later extract: completed), O5, O9 (cancelled -> completed).
    # Not: O6 (after D), O7 (cancelled), O8 (completed -> returned), O12 (quarantined).
    assert a["purchases_lifetime"] == 6
    assert a["purchases_12m"] == 3  # O4 (2024-07-01), O9, O5 (on D); O2 and O3 are on 2024-06-30
    assert a["net_revenue_lifetime"] == 195.00  # 24.50 + 100 + 30 + 10 + 10.50 + 20
    assert a["net_revenue_12m"] == 40.50  # 10 + 20 + 10.50
    assert a["gross_margin_lifetime"] == 156.00  # 195 - (10 + 4 + 12 + 4 + 4 + 5)
    assert a["avg_order_value"] == 32.50  # 195 / 6
    assert str(a["first_purchase_date"]) == "2024-01-10"
    assert str(a["last_purchase_date"]) == "2025-06-30"
    assert a["days_since_last_purchase"] == 0


def test_non_purchaser_has_zero_counts_and_null_dates(refreshed):
    b = rows_by(query(refreshed["second"], "select * from marts.customer_360"), "customer_id")["B"]
    assert b["purchases_lifetime"] == 0 and b["purchases_12m"] == 0
    assert b["net_revenue_lifetime"] == 0
    assert b["first_purchase_date"] is None and b["last_purchase_date"] is None
    assert b["avg_order_value"] is None and b["days_since_last_purchase"] is None


def test_late_arriving_customer_waits_then_counts(refreshed):
    first = rows_by(query(refreshed["first"], "select * from marts.customer_360"), "customer_id")
    assert "LATE" not in first and "NOBODY" not in first
    second = rows_by(query(refreshed["second"], "select * from marts.customer_360"), "customer_id")
    assert second["LATE"]["purchases_lifetime"] == 1
    assert second["LATE"]["net_revenue_lifetime"] == 7.25
    assert second["LATE"]["gross_margin_lifetime"] == 2.25
    assert "NOBODY" not in second
    assert len(second) == 8


EXPECTED_TICKETS_FIRST = {
    "1": ("A", "customer_id", None),
    "2": ("A", "email", None),          # case and spaces
    "3": ("A", "phone", None),          # +86 138-0013-8000
    "4": ("A", "phone", None),          # 13800138000 takes C360_PHONE_REGION=CN
    "5": (None, None, "ambiguous"),     # shared mailbox
    "6": ("C", "phone", None),          # shared mailbox, then a unique phone
    "T-7": (None, None, "unknown"),     # customer id that does not exist
    "8": (None, None, "no_key"),
    "9": ("D", "phone", None),          # another country code
    "10": (None, None, "unknown"),      # without +1 it is a CN number nobody has
    "11": (None, None, "unknown"),      # customer not arrived yet
    "12": (None, None, "no_key"),       # an unparseable phone is no key
    "13": ("B", "customer_id", None),   # a known customer_id wins over the email
    "14": (None, None, "ambiguous"),    # a phone shared by two customers
}


def _ticket_matches(warehouse):
    unmatched = {r["record_id"]: r["unmatched_reason"] for r in query(
        warehouse, "select * from audit.unmatched_records where source_entity = 'tickets'")}
    return unmatched


def test_every_ticket_is_linked_or_listed_with_its_reason(refreshed):
    unmatched = _ticket_matches(refreshed["first"])
    expected_unmatched = {k: reason for k, (_, _, reason) in EXPECTED_TICKETS_FIRST.items() if reason}
    assert unmatched == expected_unmatched
    rates = rows_by(query(refreshed["first"], "select * from audit.identity_match_rates"), "source_entity")
    tickets = rates["tickets"]
    assert (tickets["records"], tickets["matched_records"]) == (14, 7)
    assert (tickets["matched_by_customer_id"], tickets["matched_by_email"], tickets["matched_by_phone"]) == (2, 1, 4)
    assert (tickets["unmatched_no_key"], tickets["unmatched_ambiguous"], tickets["unmatched_unknown"]) == (2, 2, 3)
    assert tickets["match_rate"] == pytest.approx(7 / 14)
    responses = rates["responses"]
    assert (responses["records"], responses["matched_by_email"]) == (3, 1)
    assert (responses["unmatched_ambiguous"], responses["unmatched_no_key"]) == (1, 1)


def test_matching_is_reevaluated_when_the_customer_arrives(refreshed):
    unmatched = _ticket_matches(refreshed["second"])
    assert "11" not in unmatched  # carol@example.com now names customer G
    history = query(refreshed["second"],
                    "select run_id, matched_records from ops.match_rate_history where source_entity = 'tickets'")
    assert sorted(r["matched_records"] for r in history) == [7, 8]
    assert "match rate tickets: 8/14" in refreshed["output"]
