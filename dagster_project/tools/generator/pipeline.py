"""generate(): draw every entity (numpy), render every row as text (DuckDB), write the files."""
from __future__ import annotations

import shutil
import tempfile

import duckdb

from . import customers, messiness, orders, people, render, service, surveys
from .files import ENTITIES, write_extracts
from .run import Run, day_str, log


def generate(out_dir, customers: int, days: int, seed: int, end_date: str = "2026-06-30",
             extract_every_days: int = 1, bad_row_rate: float = 0.005,
             full_dump_until: str | None = None) -> dict:
    """Generate the source extracts into ``out_dir`` (created if missing; files are overwritten).

    Returns ``{entity: {"rows": int, "files": int, "bad": {kind: int}}}`` for the entities
    customers, products, orders, order_lines, tickets, responses.  ``rows`` counts every row/line
    written, bad and duplicate rows included; ``bad`` counts bad rows per kind.
    """
    run = Run(out_dir, customers, days, seed, end_date, extract_every_days, bad_row_rate, full_dump_until)
    log(f"customers={run.n_customers:,} days={run.n_days} "
        f"window={day_str(run.start_day)}..{day_str(run.end_day)} "
        f"extracts={len(run.extract_days)} (every {run.every_days} days"
        + (f", full dump until {day_str(run.dump_day)}" if run.dump_day is not None else "") + ")")
    return _render_and_write(run, _draw(run))


def _draw(run) -> dict:
    """The stages, in this order: each stage has its own random stream, but bad rows are all
    drawn from one, and orders move customers' first exports before their versions are drawn."""
    profiles, identities = customers.draw_profiles(run)
    catalogue, product_labels, product_rows = orders.draw_products(run)
    placed, order_rows = orders.draw_orders(run, profiles)
    history, line_rows = orders.draw_lines(run, profiles, catalogue, placed)
    del placed
    customer_rows = customers.draw_versions(run, profiles)
    tickets, ticket_rows = service.draw_tickets(run, profiles, history)
    response_rows = surveys.draw_responses(run, profiles, history, n_tickets=len(tickets))
    return dict(identities=identities, customer_rows=customer_rows, product_labels=product_labels,
                product_rows=product_rows, order_rows=order_rows, line_rows=line_rows, tickets=tickets,
                ticket_rows=ticket_rows, response_rows=response_rows)


def _render_and_write(run, drawn: dict) -> dict:
    """Render every output row once, as its final CSV / JSON text, into out_<entity>(xd, seq, line),
    then write the files. Each frame is popped from ``drawn`` as it is rendered, so its memory
    goes before the next one is (large sets)."""
    run.out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="c360_gen_")
    try:
        con = duckdb.connect(":memory:")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET temp_directory = '{tmp}'")
        con.execute("SET memory_limit = '5GB'")
        con.execute("SET preserve_insertion_order = true")
        render.create_macros(con)
        messiness.create_macros(con)
        people.create_tables(con)
        service.create_macros(con)
        surveys.create_tables(con)
        customers.render_identities(con, drawn.pop("identities"))
        run.progress("formatted customer identities")
        customers.render(con, drawn.pop("customer_rows"))
        run.progress("formatted customers")
        orders.render_products(con, drawn.pop("product_labels"), drawn.pop("product_rows"))
        orders.render_orders(con, drawn.pop("order_rows"))
        run.progress("formatted orders")
        orders.render_lines(con, drawn.pop("line_rows"))
        run.progress("formatted order lines")
        service.render_attributes(con, drawn.pop("tickets"))
        service.render(con, drawn.pop("ticket_rows"))
        run.progress("formatted tickets")
        surveys.render(con, drawn.pop("response_rows"))
        con.execute("DROP TABLE cattr")
        run.progress("formatted responses")
        write_extracts(run, con)
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {e: run.counts[e] for e in ENTITIES}
