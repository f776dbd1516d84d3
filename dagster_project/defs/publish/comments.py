"""Descriptions of the published tables and columns, carried from the working file.

dbt writes every model's and column's description into the working file as DuckDB comments
(`persist_docs` in dbt_project.yml). Publishing copies tables with `create table as select`,
which keeps no comment, so the publish step copies them here: a BI tool that lists the published
mart (SQLAlchemy's inspector, Superset, Metabase, DBeaver, JDBC metadata) shows each column's
meaning beside it.
"""

from __future__ import annotations

import duckdb


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no prepared parameter)."""
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_comments(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], source: str) -> int:
    """Give each table (schema, name) of the connection's database, and each of its columns, the
    comment the same table and column have in the attached database `source`. Returns how many
    comments were written; a table or column without a comment there gets none."""
    wanted = set(tables)
    written = 0
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = ? and comment is not null and comment <> ''",
        [source],
    ).fetchall():
        if (schema, table) in wanted:
            con.execute(f"comment on table {_identifier(schema)}.{_identifier(table)} is {_literal(comment)}")
            written += 1
    for schema, table, column, comment in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = ? and comment is not null and comment <> ''",
        [source],
    ).fetchall():
        if (schema, table) in wanted:
            con.execute(
                f"comment on column {_identifier(schema)}.{_identifier(table)}.{_identifier(column)} "
                f"is {_literal(comment)}"
            )
            written += 1
    return written
