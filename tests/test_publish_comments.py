"""Publishing carries the working file's table and column comments (dbt's persist_docs) into the
published file, and describes the ops tables, which are not dbt models."""

from __future__ import annotations

import duckdb

from dagster_project.defs.publish.comments import OPS_TABLE_COMMENTS
from dagster_project.defs.publish.mart import PublishInfo, publish
from dagster_project.settings import Settings


def test_publish_copies_table_and_column_comments(tmp_path):
    settings = Settings(source_dir=tmp_path, warehouse=tmp_path / "c360.duckdb")
    con = duckdb.connect(str(settings.work_db))
    for schema in ("marts", "audit", "ops", "intermediate"):
        con.execute(f"create schema {schema}")
    con.execute("create table intermediate.int_as_of_date_resolved as select date '2024-06-30' as as_of_date")
    con.execute('create table marts.customer_360 as select \'C1\' as customer_id, 1.0 as "odd ""name"", x", 2 as bare')
    con.execute("comment on table marts.customer_360 is 'One row per customer; it''s the mart.'")
    con.execute("comment on column marts.customer_360.customer_id is 'ERP key of the customer.'")
    con.execute('comment on column marts.customer_360."odd ""name"", x" is \'Quotes " and \'\' survive.\'')
    con.execute("create table audit.unmatched_records as select 'T1' as record_id")
    con.execute("comment on column audit.unmatched_records.record_id is 'The ticket_id or response_id.'")
    con.execute("create table marts.not_published as select 1 as x")
    con.execute("comment on table marts.not_published is 'not copied'")
    con.execute("create table ops.loaded_files as select 'customers_2024-06-01.csv' as file_name")
    con.close()

    publish(settings, [("audit", "unmatched_records"), ("marts", "customer_360")], PublishInfo("run-1", "duckdb"))

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = dict(((s, t), c) for s, t, c in con.execute(
            "select schema_name, table_name, comment from duckdb_tables()").fetchall())
        columns = dict(((t, c), m) for t, c, m in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name in ('marts', 'audit')").fetchall())
    finally:
        con.close()
    assert tables[("marts", "customer_360")] == "One row per customer; it's the mart."
    assert tables[("audit", "unmatched_records")] is None  # none in the working file, none published
    assert ("marts", "not_published") not in tables
    assert columns == {("customer_360", "customer_id"): "ERP key of the customer.",
                       ("customer_360", 'odd "name", x'): "Quotes \" and ' survive.",
                       ("customer_360", "bare"): None,
                       ("unmatched_records", "record_id"): "The ticket_id or response_id."}
    for table in ("loaded_files", "publish_info"):
        assert tables[("ops", table)] == OPS_TABLE_COMMENTS[("ops", table)]
