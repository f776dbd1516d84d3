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
    finally:
        con.close()
    print(
        "\nQuery it:   .venv/bin/python -c \"import duckdb; "
        f"print(duckdb.connect('{settings.warehouse}', read_only=True)"
        ".sql('select * from marts.customer_360 limit 5'))\""
        "\nDagster UI: make ui   (then open http://localhost:3000)"
    )
    return 0


def register(subparsers) -> None:
    report = subparsers.add_parser("report", help="print what the last refresh published")
    report.set_defaults(func=run_report)
