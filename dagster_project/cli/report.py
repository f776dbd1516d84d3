"""`c360 report`: what the last refresh published."""

from __future__ import annotations

import argparse

import duckdb

from .common import published_settings


def run_report(args: argparse.Namespace) -> int:
    """Tables and row counts, as of which date and when, match rates, and where to go next."""

    settings, code = published_settings()
    if settings is None:
        return code
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
        print(f"Published warehouse: {settings.warehouse}")
        if ("ops", "publish_info") in tables:
            as_of, refreshed_at, run_id, engine, code_version = con.execute(
                "select as_of_date, refreshed_at, run_id, engine, code_version from ops.publish_info"
            ).fetchone()
            print(f"  as of {as_of}; refreshed at {refreshed_at:%Y-%m-%d %H:%M:%S %Z} by run {run_id} "
                  f"({engine}, c360 {code_version})")
        for schema, table in tables:
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema}.{table:<28} {rows:>10} rows")
        if ("audit", "identity_match_rates") in tables:
            print("Identity match rates:")
            for source, records, matched, rate in con.execute(
                "select source_entity, records, matched_records, match_rate "
                "from audit.identity_match_rates order by 1"
            ).fetchall():
                print(f"  {source:<10} {matched}/{records} matched ({rate:.1%})")
        if ("ops", "data_quality_findings") in tables:
            _print_data_quality_findings(con)
        if {("marts", "customer_value"), ("ops", "customer_value_fits")} <= set(tables):
            _print_customer_value(con)
    finally:
        con.close()
    print(
        "\nQuery it:   .venv/bin/python -c \"import duckdb; "
        f"print(duckdb.connect('{settings.warehouse}', read_only=True)"
        ".sql('select * from marts.customer_360 limit 5'))\""
        "\nDagster UI: make ui   (then open http://localhost:3000)"
    )
    return 0


def _print_data_quality_findings(con: duckdb.DuckDBPyConnection) -> None:
    """Warnings still true of the data (ops.data_quality_findings): what, how many rows, since when."""
    findings = con.execute(
        "select tested_model, check_name, failing_rows, first_seen_at, last_seen_at, description "
        "from ops.data_quality_findings order by tested_model, check_name"
    ).fetchall()
    if not findings:
        print("Open data-quality findings: none")
        return
    print(f"Open data-quality findings ({len(findings)}; warnings that stay until the data is fixed):")
    for model, check, rows, first_seen, last_seen, description in findings:
        about = f" ({description})" if description and description != check else ""
        print(f"  {model}: {check}{about}: {rows} row(s), open since {first_seen:%Y-%m-%d %H:%M}, "
              f"last seen {last_seen:%Y-%m-%d %H:%M}")


def _print_customer_value(con: duckdb.DuckDBPyConnection) -> None:
    """The fit in use, the latest failed attempt after it (if any), and the value segments."""
    print("Customer value:")
    in_use = con.execute(
        "select f.history_as_of, f.method, f.purchasers, f.fitted_at from ops.customer_value_fits f "
        "where f.fit_id = (select max(fit_id) from marts.customer_value)"
    ).fetchone()
    if in_use is None:
        print("  no fit in use: the value columns are null")
    else:
        print(f"  fit of the purchases up to {in_use[0]} ({in_use[1]}, {in_use[2]} purchasers, "
              f"fitted {in_use[3]:%Y-%m-%d %H:%M %Z})")
    failed = con.execute(
        "select history_as_of, message from ops.customer_value_fits where status = 'failed' "
        "and fitted_at > coalesce((select max(fitted_at) from ops.customer_value_fits where status = 'ok'), "
        "'-infinity'::timestamptz) order by fitted_at desc limit 1"
    ).fetchone()
    if failed:
        print(f"  the latest fit failed (history up to {failed[0]}): {failed[1]}")
    for segment, customers, value in con.execute(
        "select value_segment, count(*), sum(customer_value_365d) from marts.customer_value group by value_segment "
        "order by case value_segment when 'top' then 1 when 'middle' then 2 when 'bottom' then 3 else 4 end"
    ).fetchall():
        total = f"{value:,.2f} value in 365 days" if value is not None else "no value"
        print(f"  {segment or 'not scored':<10} {customers:>8} customers, {total}")


def register(subparsers) -> None:
    report = subparsers.add_parser("report", help="print what the last refresh published")
    report.set_defaults(func=run_report)
