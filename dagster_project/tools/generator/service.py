"""Service: help-desk tickets (service/tickets_*.jsonl).

Stage 5 draws who opens each ticket (a customer, often shortly after an order, or someone the
ERP does not know), how they identify themselves, and its lifecycle:
new/open -> (open/pending) -> solved -> closed. Each exported state is one JSON line.
"""
from __future__ import annotations

import numpy as np

from dagster_project.defs.ingest.contract import (SATISFACTIONS, TICKET_CHANNELS, TICKET_PRIORITIES,
                                             TICKET_STATUSES, TICKET_TYPES, TICKETS)

from .arrays import argsort_keys, cat_choice, codes, frame, offsets, per_value
from .contacts import (contact_modes, contact_sql, customer_id_mode, customer_id_sql, pick_people,
                       stranger_columns)
from .messiness import (BAD_T_STATUS, BAD_T_TYPES, BTS, MK, UST, UTY, bad_counts, pick_bad, ts_or_bad,
                        unknown_value_or)
from .render import execute_all, json_object, sql_list, ts_variants
from .run import DAY

# the arrays hold an enum value as its position in the contract's tuple
NEW, OPEN, PENDING, SOLVED, CLOSED = codes(TICKET_STATUSES, "new", "open", "pending", "solved", "closed")
(PHONE_CHANNEL,) = codes(TICKET_CHANNELS, "phone")
SATISFIED, DISSATISFIED = codes(SATISFACTIONS, "good", "bad")
# how tickets spread over the contract's values
CHANNEL_SHARE = {"email": 0.45, "phone": 0.2, "chat": 0.2, "web": 0.15}
TYPE_SHARE = {"complaint": 0.25, "question": 0.3, "incident": 0.1, "return": 0.15, "request": 0.2}
PRIORITY_SHARE = {"low": 0.2, "normal": 0.55, "high": 0.18, "urgent": 0.07}
FIRST_RESPONSE_HOURS = {"low": 20, "normal": 8, "high": 3, "urgent": 1}  # mean, per priority
# tags per ticket type (not in the contract), and tags any ticket may carry
TYPE_TAGS = {
    "complaint": ["late_delivery", "damaged", "wrong_item", "quality", "staff"],
    "question": ["product_info", "opening_hours", "membership", "pricing"],
    "incident": ["website_down", "payment_failed", "app_crash", "login"],
    "return": ["refund", "exchange", "damaged_goods", "return_label"],
    "request": ["wholesale", "invoice", "address_change", "custom_order"],
}
GENERAL_TAGS = ["vip", "repeat_contact", "social_media", "escalation_risk", "中文"]


def create_macros(con) -> None:
    """tag_name(i): the i-th tag (1-based over TYPE_TAGS then GENERAL_TAGS); 0 -> NULL."""
    tags = [x for grp in per_value(TYPE_TAGS, TICKET_TYPES) for x in grp] + GENERAL_TAGS
    execute_all(con, f"CREATE MACRO tag_name(i) AS CASE WHEN i > 0 THEN {sql_list(tags)}[i] END")


def draw_tickets(run, profiles, history):
    """Tickets (who, when, what) and their exported states: (tickets, rows)."""
    rng = run.rng("tickets")
    T = int(rng.poisson(run.n_customers * run.scale * 1.0))
    cust, created = pick_people(run, profiles, history, rng, T, 0.88, 0.6, 2.0)
    o = argsort_keys(created, cust)
    cust, created = cust[o], created[o]
    channel = cat_choice(rng, per_value(CHANNEL_SHARE, TICKET_CHANNELS), T)
    ttype = cat_choice(rng, per_value(TYPE_SHARE, TICKET_TYPES), T)
    prio = cat_choice(rng, per_value(PRIORITY_SHARE, TICKET_PRIORITIES), T)
    cid_mode, fake = customer_id_mode(run, rng, cust, 0.45, 0.015)
    p_phone = np.where(channel == PHONE_CHANNEL, 0.95, 0.3)
    em, pm = contact_modes(profiles, rng, cust, created, 0.86, p_phone, 0.09)
    none = rng.random(T) < 0.03  # requesters with neither email nor phone
    em[none] = 0
    pm[none] = 0
    # 0 ERP name, 1 latin name, 2 first name, 3 none, 4 someone unknown to the ERP
    name_mode = np.where(cust < 0, np.where(rng.random(T) < 0.85, 4, 3),
                         cat_choice(rng, [0.72, 0.12, 0.10, 0.06], T)).astype(np.int8)
    ntags = cat_choice(rng, [0.2, 0.4, 0.3, 0.1], T)
    tcount = np.array([len(x) for x in per_value(TYPE_TAGS, TICKET_TYPES)])
    toff = offsets(tcount) + 1  # 1-based SQL list index
    k1 = (rng.random(T) * tcount[ttype]).astype(np.int64)
    k2 = (k1 + 1 + (rng.random(T) * (tcount[ttype] - 1)).astype(np.int64)) % tcount[ttype]
    t1 = np.where(ntags >= 1, toff[ttype] + k1, 0)
    t2 = np.where(ntags >= 2, toff[ttype] + k2, 0)
    t3 = np.where(ntags >= 3, tcount.sum() + 1 + rng.integers(0, len(GENERAL_TAGS), T), 0)
    sat = np.where(rng.random(T) < 0.33, -1, np.where(rng.random(T) < 0.82, SATISFIED, DISSATISFIED)).astype(np.int8)
    people = stranger_columns(rng, T, 3 * run.n_customers)
    tickets = frame(ti=np.arange(T), tid=100001 + np.arange(T), tid_str=rng.random(T) < 0.05, cust=cust,
                    cid_mode=cid_mode, fake=fake, name_mode=name_mode, email_mode=em, phone_mode=pm,
                    created=created, channel=channel, type=ttype, prio=prio, sat=sat, t1=t1, t2=t2, t3=t3,
                    tzv=ts_variants(rng, T, "desk"), **people)

    # lifecycle: new/open -> (open/pending) -> solved -> closed
    fr_mean = np.asarray(per_value(FIRST_RESPONSE_HOURS, TICKET_PRIORITIES), dtype=float)[prio] * 3600
    fr = created + 60 + rng.exponential(fr_mean).astype(np.int64)
    solved = fr + 600 + rng.exponential(2 * DAY, T).astype(np.int64)
    closed = solved + 4 * DAY + rng.integers(0, DAY // 2, T)
    never = rng.random(T) < 0.04
    st0 = np.where(rng.random(T) < 0.7, NEW, OPEN)
    has_v1 = rng.random(T) < 0.6
    v1_st = np.where(st0 == NEW, OPEN, PENDING)
    END = run.end
    NA = np.full(T, -1, dtype=np.int64)
    ok = np.stack([np.ones(T, bool), has_v1 & (fr <= END), ~never & (solved <= END),
                   ~never & (closed <= END)], axis=1)
    ut = np.stack([created, fr, solved, closed], axis=1)
    st = np.stack([st0, v1_st, np.full(T, SOLVED), np.full(T, CLOSED)], axis=1)
    frv = np.stack([NA, fr, fr, fr], axis=1)
    sv = np.stack([NA, NA, solved, solved], axis=1)
    satv = np.stack([np.zeros(T, bool), np.zeros(T, bool), np.zeros(T, bool), np.ones(T, bool)], axis=1)
    flat = np.flatnonzero(ok.ravel())  # sorted by (ticket, version) and so by updated_at
    ti = flat // 4
    ut, st, frv, sv, satv = (a.ravel()[flat] for a in (ut, st, frv, sv, satv))
    xd = run.extract_day_of(ut)
    keep = np.r_[(ti[1:] != ti[:-1]) | (xd[1:] != xd[:-1]), True]
    ti, ut, st, frv, sv, satv, xd = (a[keep] for a in (ti, ut, st, frv, sv, satv, xd))
    o = argsort_keys(xd, ti)
    ti, ut, st, frv, sv, satv, xd = (a[o] for a in (ti, ut, st, frv, sv, satv, xd))
    n = len(ti)
    bad, badv = pick_bad(run, "tickets", n)
    rows = frame(seq=np.arange(n), xd=xd, ti=ti, updated=ut, fr=frv, solved=sv, status=st.astype(np.int8),
                 show_sat=satv, bad=bad, badv=badv)
    run.counts["tickets"] = {"rows": n, "bad": bad_counts("tickets", bad)}
    run.progress(f"tickets: {T:,} tickets, {n:,} rows")
    return tickets, rows


def render_attributes(con, tickets):
    """Table tattr: what every exported state of a ticket repeats, rendered once per ticket."""
    con.register("tt_df", tickets)
    email, phone = contact_sql("t")
    con.execute(f"""
    CREATE TABLE tattr AS
    SELECT t.ti, t.tzv, t.sat, t.type,
        CASE WHEN t.tid_str THEN to_json('T-' || t.tid::VARCHAR) ELSE to_json(t.tid) END AS ticket_id,
        {customer_id_sql('t')} AS customer_id,
        CASE t.name_mode WHEN 0 THEN k.name WHEN 1 THEN k.latin_name WHEN 2 THEN k.first_latin
                         WHEN 4 THEN person_name(t.u_culture, t.u_style, uf.disp, ul.disp, uf.latin, ul.latin)
        END AS requester_name,
        {email} AS requester_email,
        {phone} AS requester_phone,
        fmt_ts(t.created, t.tzv) AS created_at,
        {sql_list(TICKET_CHANNELS)}[t.channel + 1] AS channel,
        {sql_list(TICKET_PRIORITIES)}[t.prio + 1] AS priority,
        list_filter([tag_name(t.t1), tag_name(t.t2), tag_name(t.t3)], lambda x: x IS NOT NULL) AS tags
    FROM tt_df t
    LEFT JOIN cattr k ON k.idx = t.cust
    JOIN fnames uf ON uf.id = t.u_fn JOIN lnames ul ON ul.id = t.u_ln
    """)
    con.unregister("tt_df")


def render(con, rows):
    """Table out_tickets(xd, seq, line): one JSON object per exported ticket state, shaped by the
    contract's JSON paths."""
    con.register("tv_df", rows)
    line = json_object(TICKETS, {
        "ticket_id": f"CASE WHEN v.bad = {MK} THEN NULL::JSON ELSE a.ticket_id END",
        "customer_id": "a.customer_id",
        "requester_name": "a.requester_name",
        "requester_email": "a.requester_email",
        "requester_phone": "a.requester_phone",
        "created_at": (f"CASE WHEN v.bad = {BTS} AND v.badv % 2 = 0 THEN bad_ts(v.badv // 2) "
                       f"ELSE a.created_at END"),
        "updated_at": ts_or_bad("v.updated", "a.tzv", "v.bad", "v.badv", 1),
        "first_response_at": "fmt_ts(v.fr, a.tzv)",
        "solved_at": "fmt_ts(v.solved, a.tzv)",
        "channel": "a.channel",
        "type": unknown_value_or(UTY, "v.bad", "v.badv", BAD_T_TYPES,
                                 f"{sql_list(TICKET_TYPES)}[a.type + 1]"),
        "priority": "a.priority",
        "status": unknown_value_or(UST, "v.bad", "v.badv", BAD_T_STATUS,
                                   f"{sql_list(TICKET_STATUSES)}[v.status + 1]"),
        "satisfaction": f"CASE WHEN v.show_sat AND a.sat >= 0 THEN {sql_list(SATISFACTIONS)}[a.sat + 1] END",
        "tags": "a.tags",
    })
    con.execute(f"""
    CREATE TABLE out_tickets AS
    SELECT v.xd, v.seq, to_json({line})::VARCHAR AS line
    FROM tv_df v JOIN tattr a ON a.ti = v.ti
    ORDER BY v.seq
    """)
    con.unregister("tv_df")
    con.execute("DROP TABLE tattr")
