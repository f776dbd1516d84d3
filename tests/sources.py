"""Write hand-made source extracts in the contract's formats (sources.md), for tests."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from dagster_project.defs.ingest.contract import CUSTOMERS, ORDER_LINES, ORDERS, PRODUCTS, RESPONSES

COLUMNS = {e.name: list(e.columns) for e in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_LINES, RESPONSES)}
SYSTEM_OF = {"customers": "sales", "products": "sales", "orders": "sales", "order_lines": "sales",
             "responses": "survey"}


def write_csv(root: Path, entity: str, extract_date: str, rows: list[dict], columns=None) -> Path:
    """One CSV extract; missing keys are written empty."""
    columns = columns or COLUMNS[entity]
    path = Path(root) / SYSTEM_OF[entity] / f"{entity}_{extract_date}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_tickets(root: Path, extract_date: str, tickets: list[dict]) -> Path:
    path = Path(root) / "service" / f"tickets_{extract_date}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tickets), encoding="utf-8")
    return path


def customer(customer_id, updated_at="2024-01-01T00:00:00Z", tier="standard", email=None, phone=None,
             **extra) -> dict:
    return {"customer_id": customer_id, "name": f"Name {customer_id}", "email": email, "phone": phone,
            "tier": tier, "region": "north", "acquisition_channel": "web", "sales_rep_id": "R1",
            "created_at": "2023-01-01T00:00:00Z", "updated_at": updated_at, **extra}


def product(product_id, category, unit_cost="1.00", list_price="10.00") -> dict:
    return {"product_id": product_id, "product_name": f"Product {product_id}", "category": category,
            "unit_cost": unit_cost, "list_price": list_price, "updated_at": "2023-01-01T00:00:00Z"}


def order(order_id, customer_id, ordered_at, status="completed", updated_at=None) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "ordered_at": ordered_at, "channel": "web",
            "status": status, "updated_at": updated_at or ordered_at}


def line(order_id, line_number, product_id, quantity, unit_price, discount_amount="0", unit_cost=None):
    return {"order_id": order_id, "line_number": line_number, "product_id": product_id,
            "quantity": quantity, "unit_price": unit_price, "discount_amount": discount_amount,
            "unit_cost": unit_cost}


def ticket(ticket_id, created_at, customer_id=None, email=None, phone=None, status="open",
           ticket_type="question", updated_at=None, first_response_at=None, solved_at=None) -> dict:
    return {"ticket_id": ticket_id, "customer_id": customer_id,
            "requester": {"name": "Req", "email": email, "phone": phone},
            "created_at": created_at, "updated_at": updated_at or created_at,
            "first_response_at": first_response_at, "solved_at": solved_at, "channel": "email",
            "type": ticket_type, "priority": "normal", "status": status, "satisfaction": None, "tags": []}


def response(response_id, submitted_at, customer_id=None, email=None, phone=None, nps=None, csat=None,
             category_spend_12m=None, comment="", **servqual) -> dict:
    return {"response_id": response_id, "submitted_at": submitted_at, "customer_id": customer_id,
            "email": email, "phone": phone, "nps": nps, "csat": csat,
            "category_spend_12m": category_spend_12m, "comment": comment, **servqual}
