"""Rendering rows as their final text in DuckDB: SQL literals, CSV records, money, timestamps.

Every output row is rendered once, in SQL, as an RFC 4180 CSV record or a compact JSON object
whose columns (and JSON paths) are the contract's; the macros created here are shared by all
entities.
"""
from __future__ import annotations

from .arrays import cat_choice

# timestamp renderings: (offset seconds, suffix, separator)
TS_OFFSETS = [0, 0, 28800, -18000, 3600, 32400, -25200, 0, 0, 0]
TS_SUFFIX = ["Z", "+00:00", "+08:00", "-05:00", "+01:00", "+09:00", "-07:00", "", "", ".000Z"]
# how often each system writes each rendering
TS_P = {
    "erp": [0.34, 0.24, 0.14, 0.02, 0.015, 0.015, 0.01, 0.16, 0.06, 0.0],
    "desk": [0.50, 0.14, 0.10, 0.02, 0.01, 0.01, 0.01, 0.05, 0.04, 0.12],
    "survey": [0.40, 0.20, 0.15, 0.02, 0.01, 0.01, 0.01, 0.14, 0.06, 0.0],
}


def ts_variants(rng, n, system):
    """Which timestamp rendering (index into TS_OFFSETS / TS_SUFFIX) each of ``n`` rows uses."""
    return cat_choice(rng, TS_P[system], n)


def sql_list(items) -> str:
    """A DuckDB list literal of strings or integers (index it 1-based)."""
    out = []
    for x in items:
        if isinstance(x, str):
            out.append("'" + x.replace("'", "''") + "'")
        else:
            out.append(str(int(x)))
    return "[" + ", ".join(out) + "]"


def zpad(prefix: str, expr: str, width: int) -> str:
    """SQL for prefix + zero padded integer (faster than printf in DuckDB)."""
    lim = 10**width
    return (f"'{prefix}' || CASE WHEN ({expr}) < {lim} THEN substring((({expr}) + {lim})::VARCHAR, 2) "
            f"ELSE ({expr})::VARCHAR END")


def csv_quote(s: str) -> str:
    """RFC 4180 quoting of a Python string (only when needed)."""
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\r\n') else s


def csv_record(entity, values: dict[str, tuple[str, bool]]) -> str:
    """SQL for one RFC 4180 CSV record of a contract entity; NULL -> empty.

    ``values`` maps each of the contract's columns, in contract order, to (SQL expression,
    may_need_quotes)."""
    _check_columns(entity, values)
    parts = [f"csvq({e})" if q else f"coalesce(({e})::VARCHAR, '')" for e, q in values.values()]
    return " || ',' || ".join(parts)


def json_object(entity, values: dict[str, str]) -> str:
    """SQL struct for one JSON line of a contract entity (render it with to_json).

    ``values`` maps each of the contract's columns, in contract order, to an SQL expression; each
    value goes where the column's JSON path says (``$.requester.name`` nests ``name`` in
    ``requester``)."""
    _check_columns(entity, values)
    tree: dict = {}
    for column, expr in values.items():
        *parents, key = entity.json_paths[column].split(".")[1:]
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = expr

    def struct(node: dict) -> str:
        fields = (f"'{k}': {struct(v) if isinstance(v, dict) else v}" for k, v in node.items())
        return "{" + ", ".join(fields) + "}"

    return struct(tree)


def _check_columns(entity, values: dict) -> None:
    if tuple(values) != entity.columns:
        raise ValueError(f"{entity.name}: rendered columns {tuple(values)} are not the contract's "
                         f"{entity.columns}")


def create_macros(con) -> None:
    """money(cents), fmt_ts(epoch seconds, rendering) and csvq(text) for the row renderings."""
    execute_all(con, f"""
    CREATE MACRO money(c) AS (c::DECIMAL(18, 0) / 100)::DECIMAL(18, 2)::VARCHAR;
    CREATE MACRO ts_local(ts, v) AS make_timestamp(((ts + {sql_list(TS_OFFSETS)}[v + 1]) * 1000000)::BIGINT);
    CREATE MACRO fmt_ts(ts, v) AS CASE WHEN ts < 0 THEN NULL
        WHEN v = 7 THEN strftime(ts_local(ts, v), '%Y-%m-%d %H:%M:%S')
        ELSE strftime(ts_local(ts, v), '%Y-%m-%dT%H:%M:%S') || {sql_list(TS_SUFFIX)}[v + 1] END;
    CREATE MACRO csvq(s) AS CASE WHEN s IS NULL THEN ''
        WHEN contains(s, ',') OR contains(s, '"') OR contains(s, chr(10)) OR contains(s, chr(13))
        THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
    """)


def execute_all(con, statements: str) -> None:
    """Run ;-separated SQL statements (macro definitions hold no ';')."""
    for stmt in statements.split(";"):
        if stmt.strip():
            con.execute(stmt)
