"""Where each entity's rows go (folder, file name, header) and the writer of the extract files.

Files are named ``<entity>_<YYYY-MM-DD>.<ext>`` (the extract date). An extract with no rows for
an entity writes no file (the warehouse rejects empty and header-only files).
"""
from __future__ import annotations

from .run import day_str

ENTITIES = ("customers", "products", "orders", "order_lines", "tickets", "responses")
FOLDER = {
    "customers": "sales",
    "products": "sales",
    "orders": "sales",
    "order_lines": "sales",
    "tickets": "service",
    "responses": "survey",
}
EXT = {e: ("jsonl" if e == "tickets" else "csv") for e in ENTITIES}
HEADERS = {
    "customers": [
        "customer_id", "name", "email", "phone", "tier", "region",
        "acquisition_channel", "sales_rep_id", "created_at", "updated_at",
    ],
    "products": ["product_id", "product_name", "category", "unit_cost", "list_price", "updated_at"],
    "orders": ["order_id", "customer_id", "ordered_at", "channel", "status", "updated_at"],
    "order_lines": [
        "order_id", "line_number", "product_id", "quantity", "unit_price",
        "discount_amount", "unit_cost",
    ],
    "tickets": [
        "ticket_id", "customer_id", "requester", "created_at", "updated_at",
        "first_response_at", "solved_at", "channel", "type", "priority", "status",
        "satisfaction", "tags",
    ],
    "responses": [
        "response_id", "submitted_at", "customer_id", "email", "phone", "nps", "csat",
        "reliability", "assurance", "tangibles", "empathy", "responsiveness",
        "category_spend_12m", "comment",
    ],
}


def write_extracts(run, con, chunk_rows=1_000_000):
    """Write the rendered tables out_<entity>(xd, seq, line) as extract files.

    Rows are concatenated per extract in DuckDB (ordered by seq), one write per chunk."""
    for folder in sorted(set(FOLDER.values())):
        (run.out / folder).mkdir(parents=True, exist_ok=True)
    for ent in ENTITIES:
        paths = {d: run.out / FOLDER[ent] / f"{ent}_{day_str(d)}.{EXT[ent]}" for d in run.extract_days}
        head = b"" if EXT[ent] == "jsonl" else (",".join(HEADERS[ent]) + "\n").encode()
        for p in paths.values():  # an extract with nothing changed gets no file (an empty one is rejected)
            p.unlink(missing_ok=True)
        started = set()
        n = run.counts[ent]["rows"]
        for a in range(0, n, chunk_rows):
            b = min(a + chunk_rows, n) - 1
            res = con.execute(
                f"SELECT xd, encode(string_agg(line, chr(10) ORDER BY seq)) FROM out_{ent} "
                f"WHERE seq BETWEEN {a} AND {b} GROUP BY xd ORDER BY xd").fetchall()
            for xd, blob in res:
                with open(paths[int(xd)], "ab") as f:
                    if xd not in started:
                        f.write(head)
                        started.add(xd)
                    f.write(blob)
                    f.write(b"\n")
            del res
        con.execute(f"DROP TABLE out_{ent}")
        run.counts[ent]["files"] = len(started)
        run.progress(f"wrote {ent}: {n:,} rows in {len(started)} files")
