"""A BI reader of the published file, for the reliability tests; run as its own process:

    python -m tests.mart_probe loop <warehouse> <stop file> <result file>
        connect read-only, fingerprint the mart, disconnect, again and again until the stop file
        appears; then write {reads, errors, seen: {fingerprint: times}} as JSON.
    python -m tests.mart_probe hold <warehouse> <stop file> <result file>
        connect once and keep the connection until the stop file appears, querying now and then;
        then fingerprint again on the same connection and write {before, after, reads, errors}.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb

COMPARED_SCHEMAS = ("marts", "audit")


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Row count and an order-free hash of every row of every mart and audit table."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?)) "
        "order by 1, 2",
        [list(COMPARED_SCHEMAS)],
    ).fetchall()
    parts = {}
    for schema, table in tables:
        rows, digest = con.execute(f'select count(*), bit_xor(hash(t)) from "{schema}"."{table}" as t').fetchone()
        parts[f"{schema}.{table}"] = [rows, str(digest)]
    return json.dumps(parts, sort_keys=True)


def published_fingerprint(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return fingerprint(con)
    finally:
        con.close()


def loop(warehouse: Path, stop: Path) -> dict:
    seen: Counter = Counter()
    errors: list[str] = []
    reads = 0
    while not stop.exists():
        reads += 1
        try:
            seen[published_fingerprint(warehouse)] += 1
        except Exception as exc:  # every failure is the finding: record it, keep reading
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.05)
    return {"reads": reads, "errors": errors, "seen": dict(seen)}


def hold(warehouse: Path, stop: Path) -> dict:
    errors: list[str] = []
    con = duckdb.connect(str(warehouse), read_only=True)
    before = fingerprint(con)
    stop.with_suffix(".ready").touch()
    reads = 0
    while not stop.exists():
        time.sleep(0.5)
        try:
            if fingerprint(con) != before:
                errors.append("the held connection saw the mart change")
            reads += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    after = fingerprint(con)
    con.close()
    return {"before": before, "after": after, "reads": reads, "errors": errors}


def main(argv: list[str]) -> int:
    mode, warehouse, stop, result = argv
    outcome = (loop if mode == "loop" else hold)(Path(warehouse), Path(stop))
    Path(result).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
