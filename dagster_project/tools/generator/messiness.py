"""The messiness injected into the extracts: bad rows, per entity and kind.

Bad rows (rate ``bad_row_rate``) corrupt existing rows in place (the row count is unchanged),
except ``duplicate``, which appends an exact repeat of a survey response in the same file.
Each entity's renderer turns a row's (bad, badv) pair into the broken value.
"""
from __future__ import annotations

import numpy as np

from .render import csv_quote, execute_all, sql_list

# Bad-row kinds per entity (codes are the 1-based position in BAD_KIND_NAMES).
BAD_KIND_NAMES = (
    "missing_key", "bad_timestamp", "bad_number", "out_of_range",
    "unknown_status", "unknown_type", "duplicate",
)
MK, BTS, BNUM, OOR, UST, UTY, DUP = range(1, 8)
BAD_KINDS = {
    "customers": (MK, BTS),
    "products": (BNUM, BTS),
    "orders": (MK, BTS, UST),
    "order_lines": (MK, BNUM, OOR),
    "tickets": (MK, BTS, UST, UTY),
    "responses": (MK, BTS, OOR, DUP),
}
BAD_TIMESTAMPS = ["not-a-date", "2025-13-45", "31/02/2025 25:61", "2025-02-30T10:00:00Z", "yesterday"]
BAD_NUMBERS = ["12,5x", "3.4.5", "twelve", "#VALUE!", "1O.00"]
# values outside the contract's ORDER_STATUSES, TICKET_STATUSES and TICKET_TYPES
BAD_ORDER_STATUS = ["shipped", "on_hold", "backordered"]
BAD_T_STATUS = ["escalated", "on-hold", "archived"]
BAD_T_TYPES = ["feedback", "compliment", "spam"]


def pick_bad(run, entity, n):
    """Return (bad_code int8[n], badv int16[n]): which rows are bad and a variant chooser."""
    rng = run.rng("bad")
    kinds = np.asarray(BAD_KINDS[entity], dtype=np.int8)
    code = np.zeros(n, dtype=np.int8)
    badv = np.zeros(n, dtype=np.int16)
    if n == 0 or run.bad_row_rate <= 0:
        return code, badv
    pos = np.flatnonzero(rng.random(n) < run.bad_row_rate)
    nb = len(pos)
    if nb:
        start = int(rng.integers(len(kinds)))
        code[pos[rng.permutation(nb)]] = kinds[(start + np.arange(nb)) % len(kinds)]
        badv[pos] = rng.integers(0, 30000, nb)
    return code, badv


def bad_counts(entity, code):
    """{kind name: rows} for the entity's kinds."""
    c = np.bincount(code, minlength=len(BAD_KIND_NAMES) + 1)
    return {BAD_KIND_NAMES[k - 1]: int(c[k]) for k in BAD_KINDS[entity]}


def create_macros(con) -> None:
    """bad_ts(v) and bad_num_csv(v): a broken timestamp / number (CSV-quoted) chosen by v."""
    execute_all(con, f"""
    CREATE MACRO bad_ts(v) AS {sql_list(BAD_TIMESTAMPS)}[v % {len(BAD_TIMESTAMPS)} + 1];
    CREATE MACRO bad_num_csv(v) AS {sql_list(csv_quote(x) for x in BAD_NUMBERS)}[v % {len(BAD_NUMBERS)} + 1];
    """)


def ts_or_bad(ts_expr, tzv, bad, badv, parity=None):
    """SQL for a rendered timestamp, or a broken one on a bad_timestamp row.

    ``parity`` splits a row's two timestamps: the one whose parity matches ``badv`` breaks."""
    cond = f"{bad} = {BTS}" + ("" if parity is None else f" AND {badv} % 2 = {parity}")
    v = badv if parity is None else f"{badv} // 2"
    return f"CASE WHEN {cond} THEN bad_ts({v}) ELSE fmt_ts({ts_expr}, {tzv}) END"


def unknown_value_or(code, bad, badv, unknown_values, otherwise) -> str:
    """SQL: a value outside the contract's enum (chosen by badv) on rows whose bad code is
    ``code`` (unknown_status / unknown_type), else ``otherwise``."""
    return (f"CASE WHEN {bad} = {code} THEN {sql_list(unknown_values)}[{badv} % {len(unknown_values)} + 1] "
            f"ELSE {otherwise} END")
