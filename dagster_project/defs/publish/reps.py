"""Per-rep marts: after every publish, one DuckDB file per sales rep, holding only their customers.

`reps/<sales_rep_id>.duckdb` beside the published file (README, "Who sees what"): schema `marts`
with `customer_360` and `customer_timeline` restricted to the customers whose latest ERP
sales_rep_id is that rep (same columns as the main mart, contact data in clear: the rep calls
them), and `my_book`, the rep's figures beside the company's. Nothing else: no audit or ops table,
no table computed from other customers except the company row of `my_book`, which names nobody.

Published like the main file: every rep's file is first written in full as a temp file in reps/
(owner-only), and only then is each moved into place with os.replace. A reader holding an old
rep file keeps reading it; a refresh killed while the files are written leaves every previous
rep file as it was (the next refresh removes the temp files of dead processes). Files of reps that
have no customer any more are removed. A sales_rep_id that is not a safe file name never becomes
a path: its customers are in no file, and the count is reported.
"""


import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from ...settings import Settings
from ...warehouse import configure, process_alive
from ..resources import C360Resource
from .comments import copy_comments
from .mart import PUBLISHED_MART_KEY, PUBLISHED_ORDER, PUBLISHED_UNIQUE_KEYS, PublishError, _fsync

REP_MARTS_KEY = dg.AssetKey(["warehouse", "rep_marts"])
REP_SUFFIX = ".duckdb"
REP_TABLES = ("customer_360", "customer_timeline")
# Letters, digits and _ . - @ +, not starting with a dot, at most 64 characters, no "..": never a
# path separator, a control character, a hidden file or a parent folder.
SAFE_REP_ID = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,63}")
# .<name>.<pid>.<ns>.publishing (a rep file being written, and its .wal) or .scratch.<pid>.<ns>.tmp
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<ns>\d+)\.(publishing|tmp)(\.wal)?")
REP_COLUMN = "__c360_sales_rep_id"  # the rep of a timeline row while the files are written

# my_book: the figures of a set of customers of marts.customer_360 (metrics.md definitions)
BOOK_FIGURES = """
    count(*) as customers,
    count(*) filter (where purchases_lifetime > 0) as purchasers,
    cast(coalesce(sum(cast(net_revenue_12m as decimal(38, 6))), 0) as double) as net_revenue_12m,
    count(*) filter (where churn_risk = 'overdue') as customers_at_churn_risk,
    count(*) filter (where churn_risk = 'churned') as customers_churned,
    count(nps_group) as customers_with_nps,
    count(*) filter (where nps_group = 'promoter') as nps_promoters,
    count(*) filter (where nps_group = 'detractor') as nps_detractors,
    100.0 * (count(*) filter (where nps_group = 'promoter') - count(*) filter (where nps_group = 'detractor'))
        / nullif(count(nps_group), 0) as nps
"""


# my_book's own descriptions (the other tables keep the dbt descriptions of the working file)
MY_BOOK_COMMENTS = {
    None: "The rep's book beside the company's: one row with scope 'rep' (this file's customers) and "
          "one with scope 'company' (every customer of the mart, with or without a rep), as of D.",
    "scope": "rep (the customers of this file) or company (every customer of the mart).",
    "sales_rep_id": "This file's rep on the rep row; null on the company row.",
    "as_of_date": "D, the as-of date of the mart.",
    "customers": "Customers (rows of customer_360).",
    "purchasers": "Customers with at least one purchase dated up to D (purchases_lifetime > 0).",
    "net_revenue_12m": "Sum of the customers' net_revenue_12m (summed as DECIMAL).",
    "customers_at_churn_risk": "Customers whose churn_risk is overdue (not churned yet), as the dashboard's tile.",
    "customers_churned": "Customers whose churn_risk is churned (already lost), apart.",
    "customers_with_nps": "Customers whose latest response with an NPS exists (latest_nps not null).",
    "nps_promoters": "Of those, customers whose latest NPS is 9-10 (nps_group promoter).",
    "nps_detractors": "Of those, customers whose latest NPS is 0-6 (nps_group detractor).",
    "nps": "100 x (nps_promoters - nps_detractors) / customers_with_nps; null without any.",
}


def is_safe_rep_id(rep: str | None) -> bool:
    return rep is not None and SAFE_REP_ID.fullmatch(rep) is not None and ".." not in rep


@dataclass
class RepMarts:
    as_of_date: object = None
    customers: dict[str, int] = field(default_factory=dict)  # rep -> customers in their file
    unsafe_customers: int = 0  # customers whose rep id cannot be a file name
    unsafe_rep_ids: int = 0
    without_rep: int = 0  # customers without a rep
    removed: list[str] = field(default_factory=list)  # files of reps without customers now


def remove_stale_rep_temp_files(reps_dir: Path) -> list[Path]:
    """Temp rep files (and scratch folders) left by a refresh that was killed: those whose process
    is gone."""
    removed = []
    if not reps_dir.is_dir():
        return removed
    for path in reps_dir.iterdir():
        match = TEMP_NAME.fullmatch(path.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _check_published(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The working file must hold what was published last (the refresh holds the lock between
    the two steps; this guards a rep step run alone after a refresh that failed before publishing)."""
    if not settings.warehouse.exists():
        raise PublishError(f"nothing is published at {settings.warehouse}: run the whole refresh first")
    con.execute("attach ? as published (read_only)", [str(settings.warehouse)])
    try:
        published = con.execute(
            "select as_of_date, row_counts from published.ops.publish_info"
        ).fetchone()
        work = con.execute(
            "select (select as_of_date from work.intermediate.int_as_of_date_resolved), "
            "(select count(*) from work.marts.customer_360), (select count(*) from work.marts.customer_timeline)"
        ).fetchone()
    finally:
        con.execute("detach published")
    counts = json.loads(published[1])
    if (published[0], counts.get("marts.customer_360"), counts.get("marts.customer_timeline")) != work:
        raise PublishError(
            "the working file is not what was published last (a refresh failed after building): "
            "run the whole refresh"
        )


def publish_rep_marts(settings: Settings) -> RepMarts:
    reps_dir = settings.reps_dir
    reps_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(reps_dir, 0o700)  # temp files are readable by their owner only from the start
    remove_stale_rep_temp_files(reps_dir)
    stamp = f"{os.getpid()}.{time.time_ns()}"
    scratch = reps_dir / f".scratch.{stamp}.tmp"
    temps: dict[str, Path] = {}
    outcome = RepMarts()
    con = duckdb.connect()  # in memory: the rep-sorted copies spill to the scratch folder only
    try:
        configure(con, settings)
        con.execute("set temp_directory = ?", [str(scratch)])
        con.execute("attach ? as work (read_only)", [str(settings.work_db)])
        _check_published(con, settings)
        outcome.as_of_date = con.execute(
            "select as_of_date from work.intermediate.int_as_of_date_resolved").fetchone()[0]
        by_rep = con.execute(
            "select sales_rep_id, count(*) from work.marts.customer_360 group by 1 order by 1"
        ).fetchall()
        for rep, customers in by_rep:
            if rep is None:
                outcome.without_rep += customers
            elif is_safe_rep_id(rep):
                outcome.customers[rep] = customers
            else:
                outcome.unsafe_customers += customers
                outcome.unsafe_rep_ids += 1
        con.execute("create temp table rep_ids (sales_rep_id varchar)")
        con.executemany("insert into rep_ids values (?)", [[rep] for rep in outcome.customers])
        # one pass over the mart, sorted by rep: each file then reads only its rep's row groups
        con.execute(
            "create temp table rep_customers as select * from work.marts.customer_360 "
            "where sales_rep_id in (select sales_rep_id from rep_ids) order by sales_rep_id, customer_id"
        )
        con.execute(
            f"""
            create temp table rep_timeline as
            select timeline.*, owners.sales_rep_id as {REP_COLUMN}
            from work.marts.customer_timeline as timeline
            inner join (select customer_id, sales_rep_id from rep_customers) as owners
                on timeline.customer_id = owners.customer_id
            order by owners.sales_rep_id, timeline.customer_id, timeline.event_sequence
            """
        )
        con.execute(
            f"""
            create temp table books as
            select 'rep' as scope, sales_rep_id, cast(? as date) as as_of_date, {BOOK_FIGURES}
            from rep_customers group by sales_rep_id
            union all
            select 'company', cast(null as varchar), cast(? as date), {BOOK_FIGURES}
            from work.marts.customer_360
            """,
            [outcome.as_of_date, outcome.as_of_date],
        )
        # 1. every rep's file, written whole under a temp name
        for rep in outcome.customers:
            temp = reps_dir / f".{rep}{REP_SUFFIX}.{stamp}.publishing"
            temps[rep] = temp
            _write_rep_file(con, temp, rep)
    except BaseException:
        for temp in temps.values():
            for leftover in (temp, temp.with_name(temp.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    # 2. then moved into place, each atomically
    for rep, temp in temps.items():
        os.replace(temp, reps_dir / f"{rep}{REP_SUFFIX}")
    # 3. reps without customers (or whose id is no longer safe) lose their file
    for path in sorted(reps_dir.glob(f"*{REP_SUFFIX}")):
        rep = path.name[: -len(REP_SUFFIX)]
        if not path.name.startswith(".") and rep not in outcome.customers:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            outcome.removed.append(rep)
    _fsync(reps_dir)
    return outcome


def _write_rep_file(con: duckdb.DuckDBPyConnection, temp: Path, rep: str) -> None:
    con.execute("attach ? as rep_file", [str(temp)])
    try:
        os.chmod(temp, 0o600)
        con.execute("create schema rep_file.marts")
        for table in REP_TABLES:
            if table == "customer_360":
                select, rep_column = "select * from rep_customers", "sales_rep_id"
            else:
                select, rep_column = f"select * exclude ({REP_COLUMN}) from rep_timeline", REP_COLUMN
            order = PUBLISHED_ORDER.get(("marts", table))
            con.execute(
                f'create table rep_file.marts."{table}" as {select} where {rep_column} = ?'
                + (f" order by {order}" if order else ""),
                [rep],
            )
            key = PUBLISHED_UNIQUE_KEYS.get(("marts", table))
            if key:
                con.execute(f'create unique index "{table}__unique_key" on rep_file.marts."{table}" ({key})')
        con.execute(
            "create table rep_file.marts.my_book as select * from books "
            "where scope = 'company' or sales_rep_id = ? order by scope desc",
            [rep],
        )
        # descriptions for a BI tool listing the file: the working file's (dbt's) and my_book's
        con.execute("use rep_file")
        try:
            copy_comments(con, [("marts", table) for table in REP_TABLES], source="work")
            for column, text in MY_BOOK_COMMENTS.items():
                literal = "'" + text.replace("'", "''") + "'"
                con.execute(f"comment on column marts.my_book.{column} is {literal}" if column
                            else f"comment on table marts.my_book is {literal}")
        finally:
            con.execute("use memory")
    finally:
        con.execute("detach rep_file")
    os.chmod(temp, 0o600)
    _fsync(temp)


def _warning(outcome: RepMarts) -> str | None:
    if not outcome.unsafe_customers:
        return None
    return (
        f"{outcome.unsafe_customers} customer(s) of {outcome.unsafe_rep_ids} sales_rep_id value(s) that "
        "cannot be a file name (a path separator, '..', a control character, over 64 characters, or "
        "another character than letters, digits and _ . - @ +) are in no rep file"
    )


@dg.asset(
    key=REP_MARTS_KEY,
    group_name="publish",
    kinds={"duckdb"},
    deps=[PUBLISHED_MART_KEY],
    description=(
        "One DuckDB file per sales rep, reps/<sales_rep_id>.duckdb beside the published file: "
        "customer_360 and customer_timeline of that rep's customers only (contact data in clear), "
        "and my_book (the rep's figures beside the company's). Written after every publish, "
        "each replaced atomically, owner-only (0600); files of reps without customers are removed."
    ),
)
def rep_marts(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
    settings = c360.settings()
    outcome = publish_rep_marts(settings)
    warning = _warning(outcome)
    if warning:
        context.log.warning(warning)
    context.log.info(f"rep marts: {len(outcome.customers)} file(s) in {settings.reps_dir}"
                     + (f"; removed {len(outcome.removed)}" if outcome.removed else ""))
    return dg.MaterializeResult(
        metadata={
            "path": str(settings.reps_dir),
            "as_of_date": str(outcome.as_of_date),
            "rep_files": len(outcome.customers),
            "customers_in_rep_files": sum(outcome.customers.values()),
            "customers_without_rep": outcome.without_rep,
            "unsafe_rep_customers": outcome.unsafe_customers,
            "unsafe_rep_ids": outcome.unsafe_rep_ids,
            "removed_rep_files": len(outcome.removed),
            **({"warning": warning} if warning else {}),
        }
    )
