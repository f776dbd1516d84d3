"""Descriptions of the published tables and columns, carried from the working file.

dbt writes every model's and column's description into the working file as DuckDB comments
(`persist_docs` in dbt_project.yml). Publishing copies tables with `create table as select`,
which keeps no comment, so the publish step copies them here: a BI tool that lists the published
mart (SQLAlchemy's inspector, Superset, Metabase, DBeaver, JDBC metadata) shows each column's
meaning beside it.
"""

from __future__ import annotations

import duckdb

from ...warehouse import sql_literal


# The published ops tables are the refresh's own, not dbt models: their descriptions live here.
OPS_TABLE_COMMENTS = {
    ("ops", "data_quality_findings"): (
        "Open data-quality findings: one row per warn-severity dbt test that found rows the last time it "
        "ran (check_name, tested_model, failing_rows), open since first_seen_at, last seen at last_seen_at; "
        "removed when the test passes. Kept by the on-run-end hook (dbt/macros/data_quality_findings.sql)."
    ),
    ("ops", "loaded_files"): (
        "One row per source extract loaded into the raw layer: system, entity, file name, extract "
        "date, size, sha256, rows read and quarantined, unknown extra columns (schema drift), when "
        "and by which run (load_id)."
    ),
    ("ops", "rejected_files"): (
        "One row per source extract that could not be read at all (rejected whole, nothing of it "
        "loaded), with the reason; a refresh that rejects a file does not publish."
    ),
    ("ops", "match_rate_history"): (
        "The identity match rates of every refresh (audit.identity_match_rates with run_id and "
        "recorded_at): how many tickets and responses linked to a customer, by which rule, and why "
        "the rest did not."
    ),
    ("ops", "quarantined_rows"): (
        "Every source row that could not be read safely, with its file, line and "
        "_quarantine_reason (missing_key, missing_value, bad_timestamp, bad_number, out_of_range, unknown_value, "
        "duplicate, not_an_object)."
    ),
    ("ops", "publish_info"): (
        "One row: the as-of date D of the published mart, when it was refreshed, by which run, "
        "engine and code version, the row count of every published table, and pii: clear, or "
        "masked when C360_PII=masked (personal data hashed or shortened, see the README)."
    ),
}



def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_comments(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], source: str) -> int:
    """Give each table (schema, name) of the connection's database, and each of its columns, the
    comment the same table and column have in the attached database `source`, and each ops table
    among them its description of OPS_TABLE_COMMENTS. Returns how many comments were written; a
    table or column without a comment gets none."""
    wanted = set(tables)
    written = 0
    for schema, table in sorted(wanted & set(OPS_TABLE_COMMENTS)):
        con.execute(
            f"comment on table {_identifier(schema)}.{_identifier(table)} "
            f"is {sql_literal(OPS_TABLE_COMMENTS[(schema, table)])}"
        )
        written += 1
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = ? and comment is not null and comment <> ''",
        [source],
    ).fetchall():
        if (schema, table) in wanted:
            con.execute(f"comment on table {_identifier(schema)}.{_identifier(table)} is {sql_literal(comment)}")
            written += 1
    for schema, table, column, comment in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = ? and comment is not null and comment <> ''",
        [source],
    ).fetchall():
        if (schema, table) in wanted:
            con.execute(
                f"comment on column {_identifier(schema)}.{_identifier(table)}.{_identifier(column)} "
                f"is {sql_literal(comment)}"
            )
            written += 1
    return written
