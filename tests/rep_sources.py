"""Source extracts for the rep-access tests (issue 13): several reps, a customer without a rep, a
customer who changes rep, hostile rep ids, and personal data everywhere the contract allows it
(customers, ticket requesters, survey respondents, quarantined and unmatched records)."""

from __future__ import annotations

from pathlib import Path

import phonenumbers

from .sources import customer, line, order, product, response, ticket, write_csv, write_tickets

HOSTILE_REP_IDS = ("../../etc/x", "a/b", "R" * 200)
BULK_REPS = tuple(f"B{n:02d}" for n in range(1, 21))  # one customer each: a longer rep step

# customer -> (name, email, phone as given, rep on day one, rep on day two)
PEOPLE = {
    "CU-001": ("Alice Zhang", "alice.zhang@example.com", "+86 138 0013 8001", "R1", "R1"),
    "CU-002": ("Bob Li", "Bob.Li@Example.com", "13800138002", "R1", "R1"),
    "CU-003": ("Carol Wang", "carol.wang@example.com", "+8613800138003", "R1", "R2"),  # moves
    "CU-004": ("David Chen", "david.chen@example.com", "(010) 6552 9004", "R2", "R2"),
    "CU-005": ("Erin Liu", "erin.liu@example.com", "12345", "R2", "R2"),  # not a possible phone
    "CU-006": ("Frank Zhao", "frank.zhao@example.com", "+8613800138006", "R3", ""),  # R3 left alone
    "CU-007": ("Grace Sun", "grace.sun@example.com", "+8613800138007", "", ""),  # never a rep
    "CU-008": ("Henry Zhou", "henry.zhou@example.com", "+8613800138008", HOSTILE_REP_IDS[0], HOSTILE_REP_IDS[0]),
    "CU-009": ("Irene Wu", "irene.wu@example.com", "+8613800138009", HOSTILE_REP_IDS[1], HOSTILE_REP_IDS[1]),
    "CU-010": ("Jack Xu", "jack.xu@example.com", "+8613800138010", HOSTILE_REP_IDS[2], HOSTILE_REP_IDS[2]),
    **{f"CU-1{n:02d}": (f"Bulk Person{n:02d}", f"bulk{n:02d}@example.com", f"+86139001390{n:02d}", rep, rep)
       for n, rep in enumerate(BULK_REPS, start=1)},
}
# personal data that only other records carry: requesters and respondents
OTHERS = {
    "requester": ("Stranger Danger", "stranger.danger@example.com", "+8613700137001"),
    "quarantined": ("Quentin Quarantine", "quentin.q@example.com", "+8613700137002"),
    "respondent": ("", "nobody.known@example.com", "+8613700137003"),
}


def reps_on(day: int) -> dict[str, set[str]]:
    """Safe rep -> its customers, as the rep files must hold them after day one or day two."""
    result: dict[str, set[str]] = {}
    for cid, (*_, rep1, rep2) in PEOPLE.items():
        rep = rep1 if day == 1 else rep2
        if rep and rep not in HOSTILE_REP_IDS:
            result.setdefault(rep, set()).add(cid)
    return result


def e164(phone: str) -> str | None:
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def personal_strings() -> set[str]:
    """Every name, e-mail and phone (as given and as E.164) in the extracts."""
    found = set()
    for name, email, phone, *_ in [*PEOPLE.values(), *OTHERS.values()]:
        found |= {name, email, phone, e164(phone)}
    return {s for s in found if s}


def identifiers(cid: str) -> set[str]:
    """What names or describes one customer: id, name, e-mail, phone (given and E.164)."""
    name, email, phone, *_ = PEOPLE[cid]
    return {s for s in (cid, name, email, email.lower(), phone, e164(phone)) if s}


def _customers(day: int, updated_at: str) -> list[dict]:
    rows = []
    for cid, (name, email, phone, rep1, rep2) in PEOPLE.items():
        rows.append(customer(cid, updated_at=updated_at, email=email, phone=phone,
                             tier="gold" if cid in ("CU-001", "CU-004") else "standard",
                             name=name, sales_rep_id=rep1 if day == 1 else rep2))
    return rows


def write_day_one(root: Path) -> None:
    day = "2024-06-01"
    q_name, q_email, q_phone = OTHERS["quarantined"]
    write_csv(root, "customers", day, [
        *_customers(1, "2024-06-01T00:00:00Z"),
        # a row the contract quarantines (bad timestamp), carrying personal data
        customer("CU-999", updated_at="yesterday", email=q_email, phone=q_phone, name=q_name, sales_rep_id="R1"),
    ])
    write_csv(root, "products", day, [product("P1", "Coffee", unit_cost="4.00"),
                                      product("P2", "Tea", unit_cost="2.50")])
    orders, lines = [], []
    for n, cid in enumerate(PEOPLE, start=1):
        if cid == "CU-005":
            continue  # a non-purchaser
        dates = ("2024-01-01", "2024-01-11", "2024-01-21") if cid == "CU-004" else (  # CU-004: overdue
            "2023-03-10", "2024-01-15", "2024-05-20")
        for k, when in enumerate(dates):
            if cid == "CU-002" and k > 0:
                continue  # last purchase long ago: churned by D
            oid = f"O-{n:03d}-{k}"
            orders.append(order(oid, cid, f"{when}T10:00:00Z"))
            lines.append(line(oid, 1, "P1" if k % 2 == 0 else "P2", 1 + n % 3, "10.00"))
    write_csv(root, "orders", day, orders)
    write_csv(root, "order_lines", day, lines)
    r_name, r_email, r_phone = OTHERS["requester"]
    tickets = [
        ticket("T-001", "2024-05-10T08:00:00Z", customer_id="CU-001"),
        ticket("T-002", "2024-05-11T08:00:00Z", email=" Bob.Li@example.com "),  # matched by e-mail
        ticket("T-003", "2024-05-12T08:00:00Z", phone="138 0013 8003"),  # matched by phone
        ticket("T-004", "2024-05-13T08:00:00Z", email=r_email, phone=r_phone),  # unmatched
        ticket("T-005", "2024-05-14T08:00:00Z", customer_id="CU-004", status="lost"),  # quarantined
    ]
    for t in tickets:
        t["requester"]["name"] = r_name if t["ticket_id"] in ("T-004", "T-005") else "Alice Zhang"
        if t["ticket_id"] == "T-005":
            t["requester"].update(email=r_email, phone=r_phone)
    write_tickets(root, day, tickets)
    _, nobody_email, nobody_phone = OTHERS["respondent"]
    write_csv(root, "responses", day, [
        response("S-001", "2024-05-20T12:00:00Z", customer_id="CU-001", nps="10", csat="5"),
        response("S-002", "2024-05-21T12:00:00Z", email="bob.li@example.com", nps="3", csat="2"),
        response("S-003", "2024-05-22T12:00:00Z", phone="01065529004", nps="8", csat="4"),  # CU-004
        response("S-004", "2024-05-23T12:00:00Z", customer_id="CU-006", nps="9"),
        response("S-005", "2024-05-24T12:00:00Z", email=nobody_email, phone=nobody_phone, nps="0"),  # unmatched
        response("S-006", "2024-05-25T12:00:00Z", email="carol.wang@example.com", nps="11"),  # quarantined
        response("S-007", "2024-05-26T12:00:00Z", customer_id="CU-101", nps="7",
                 comment="call me on +8613900139001"),
    ])


def write_day_two(root: Path) -> None:
    """CU-003 moves from R1 to R2, CU-006 loses its rep (R3 has nobody left); a new order."""
    day = "2024-06-15"
    write_csv(root, "customers", day, [
        row for row in _customers(2, "2024-06-15T00:00:00Z") if row["customer_id"] in ("CU-003", "CU-006")
    ])
    write_csv(root, "orders", day, [order("O-NEW", "CU-003", "2024-06-14T10:00:00Z")])
    write_csv(root, "order_lines", day, [line("O-NEW", 1, "P2", 2, "12.50")])
