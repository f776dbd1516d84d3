"""Customers: the ERP customer master (sales/customers_*.csv).

Stage 1 draws each customer's profile (legacy or new, segment, churn, identity, preferences);
orders.py may then delay a new customer's first export (late-arriving master data); stage 4
draws the versions written: the first export, tier upgrades, email and phone changes.
"""
from __future__ import annotations

import numpy as np

from dagster_project.defs.ingest.contract import CUSTOMERS, TIERS

from .arrays import argsort_keys, cat_choice, frame, rowwise_choice, scramble
from .messiness import MK, bad_counts, pick_bad, ts_or_bad
from .orders import CATEGORIES
from .people import (CCS, CN_MOBILE_PREFIX, COMPANY_A, COMPANY_B, CULTURE_P, DOMAINS, FOREIGN_DIST,
                     FOREIGN_P, SHARED_BOXES, draw_name_ids)
from .render import csv_record, sql_list, ts_variants, zpad
from .run import DAY

STANDARD, GOLD = TIERS  # ("standard", "gold"): every customer starts standard, some become gold
# not in the contract (free text there): the generator's own vocabularies
REGIONS = ["north", "south", "east", "west", "central"]
ACQ_CHANNELS = ["web", "store", "referral", "partner", "ads"]


def draw_profiles(run):
    """Base attributes and activity profile of every customer: (profiles, identities).

    ``profiles`` (arrays per customer) drives the later stages; ``identities`` is what
    render_identities() turns into names, emails and phone numbers."""
    rng = run.rng("customers")
    N, D = run.n_customers, run.n_days
    legacy = rng.random(N) < 0.35
    pre_days = rng.integers(30, 5 * 365, N)
    new_day = run.start_day + np.minimum((D * rng.power(1.4, N)).astype(np.int64), D - 1)
    sod = run.second_of_day(rng, N)
    created = np.where(legacy, (run.start_day - pre_days) * DAY + sod, new_day * DAY + sod)
    created = np.minimum(created, run.end - 60)
    # legacy customers were loaded into this ERP during the first week
    v0 = np.where(legacy, run.start + rng.integers(0, min(7, D) * DAY, N), created)
    v0 = np.minimum(v0, run.end - 60)
    seg = cat_choice(rng, [0.15, 0.22, 0.38, 0.25], N)  # prospect, one-time, occasional, loyal
    start = v0.copy()
    churn = (seg >= 2) & (rng.random(N) < 0.30)
    churn_t = start + ((0.15 + 0.7 * rng.random(N)) * (run.end - start)).astype(np.int64)
    end = np.where(churn, churn_t, run.end)

    culture = cat_choice(rng, CULTURE_P, N)
    fn, ln = draw_name_ids(rng, culture)
    name_style = rng.integers(0, 100, N).astype(np.int8)
    email_form = rng.integers(0, 5, N).astype(np.int8)
    email_nn = rng.integers(10, 100, N).astype(np.int16)
    is_zh = culture == 0
    dom1 = np.where(is_zh, rng.integers(0, 7, N), rng.integers(5, len(DOMAINS), N))
    has_email = rng.random(N) > 0.04
    has_phone = rng.random(N) > 0.07

    # shared mailboxes: a few groups of 2-4 customers using one company address
    shared_g = np.full(N, -1, dtype=np.int32)
    G = 0
    if N >= 8:
        G = int(min(max(2, N // 2500), len(COMPANY_A) * len(COMPANY_B)))
        sizes = rng.integers(2, 5, G)
        while sizes.sum() > N // 2:
            sizes = np.maximum(2, sizes - 1)
            if sizes.sum() > N // 2:
                G = max(1, G // 2)
                sizes = sizes[:G]
        members = rng.choice(N, int(sizes.sum()), replace=False)
        shared_g[members] = np.repeat(np.arange(G), sizes)
        has_email[members] = True
    shared = shared_g >= 0
    combo = rng.permutation(len(COMPANY_A) * len(COMPANY_B))[: max(G, 1)]

    # phones (E.164 in the ERP)
    foreign = rng.random(N) < np.asarray(FOREIGN_P)[culture]
    fcum = np.cumsum(np.asarray(FOREIGN_DIST), axis=1)
    fcc = 1 + rowwise_choice(rng, fcum, culture)
    cc_idx = np.where(foreign, fcc, 0)
    cn_pref = np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), N)]
    us_area = np.asarray([212, 415, 646, 310, 617, 206])[rng.integers(0, 6, N)]
    idx = np.arange(N, dtype=np.int64)
    nat1 = national_numbers(cc_idx, cn_pref, us_area, scramble(idx))
    nat2 = national_numbers(cc_idx, np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), N)],
                            us_area, scramble(idx + N))
    region = cat_choice(rng, [0.22, 0.20, 0.24, 0.18, 0.16], N)
    acq = cat_choice(rng, [0.38, 0.25, 0.14, 0.10, 0.13], N)
    n_reps = int(np.clip(N // 2000, 5, 400))
    rep = rng.integers(1, n_reps + 1, N)
    no_rep = np.where(np.isin(acq, [0, 4]), rng.random(N) < 0.7, rng.random(N) < 0.1)
    rep = np.where(no_rep, 0, rep)
    gold0 = rng.random(N) < 0.03
    # email / phone changes (times drawn later, after the late-arrival adjustment)
    email_change = has_email & ~shared & (rng.random(N) < 0.02)
    phone_change = has_phone & (rng.random(N) < 0.02)
    em2_form = ((email_form + 1 + rng.integers(0, 4, N)) % 5).astype(np.int8)
    dom2 = (dom1 + 1 + rng.integers(0, len(DOMAINS) - 1, N)) % len(DOMAINS)
    # preferred categories and order channel (web, store, app, phone)
    pref_cat = rng.integers(0, len(CATEGORIES), (N, 3))
    web_or_app = np.where(rng.random(N) < 0.6, 0, 2)
    pref_channel = np.select([acq == 1, acq == 3], [1, rng.integers(1, 4, N)], default=web_or_app)
    # latent satisfaction (drives survey scores)
    sat = rng.normal(0, 1, N) + np.where(seg == 3, 0.3, 0.0) - np.where(churn, 0.5, 0.0)

    profiles = dict(
        created=created, v0=v0, legacy=legacy, seg=seg, start=start, end=end, churn=churn,
        has_email=has_email, has_phone=has_phone, gold0=gold0, email_change=email_change,
        phone_change=phone_change, pref_cat=pref_cat, pref_channel=pref_channel, sat=sat,
    )
    identities = frame(
        idx=idx, culture=culture, fn=fn, ln=ln, name_style=name_style, email_form=email_form,
        email_nn=email_nn, dom1=dom1, has_email=has_email, em2_form=em2_form, dom2=dom2,
        email_change=email_change, shared_g=shared_g,
        shared_box=np.where(shared, shared_g % len(SHARED_BOXES), 0),
        combo=np.where(shared, combo[np.maximum(shared_g, 0)], 0),
        has_phone=has_phone, cc=np.asarray(CCS)[cc_idx], nat1=nat1, nat2=nat2,
        region=region, acq=acq, rep=rep,
    )
    run.progress(f"customers: {N:,} base profiles ({int(shared.sum())} on {G} shared mailboxes)")
    return profiles, identities


def national_numbers(cc_idx, cn_pref, us_area, b):
    """National significant number per country code (index into CCS); ``b`` makes it unique."""
    return np.select(
        [cc_idx == 0, cc_idx == 1, cc_idx == 2, cc_idx == 3, cc_idx == 4],
        [
            cn_pref * 10**8 + b,                              # 138 0013 8000
            us_area * 10**7 + 2_000_000 + b % 8_000_000,      # 415 555 0100
            20 * 10**8 + 30_000_000 + b % 70_000_000,         # 20 7946 0958
            30 * 10**8 + 10_000_000 + b % 90_000_000,         # 30 12345678
            3 * 10**8 + 10_000_000 + b % 90_000_000,          # 3 1234 5678
        ],
        default=90_000_000 + b % 10_000_000,                  # 9123 4567
    ).astype(np.int64)


def draw_versions(run, profiles):
    """Customer rows: the first export, tier upgrades, email and phone changes.

    Adds em_t / ph_t (when the email / phone changed) to ``profiles``."""
    rng = run.rng("cust_versions")
    c, N = profiles, run.n_customers
    v0 = c["v0"]
    INF = np.iinfo(np.int64).max
    room = run.end - v0

    def ev(mask, lo_frac):
        tt = v0 + ((lo_frac + (1 - lo_frac) * rng.random(N)) * room).astype(np.int64)
        tt = run.at_time_of_day(rng, tt, v0 + 3600, run.end)
        return np.where(mask & (room > 2 * 3600) & (tt > v0), tt, INF)

    up_p = np.asarray([0.02, 0.03, 0.10, 0.40])[c["seg"]]
    up_t = ev(~c["gold0"] & (rng.random(N) < up_p), 0.15)   # standard -> gold
    em_t = ev(c["email_change"], 0.0)
    ph_t = ev(c["phone_change"], 0.0)
    ids, times = [np.arange(N)], [v0]
    for tt in (up_t, em_t, ph_t):
        m = np.flatnonzero(tt < INF)
        ids.append(m)
        times.append(tt[m])
    cid = np.concatenate(ids)
    t = np.concatenate(times)
    o = argsort_keys(cid, t)
    cid, t = cid[o], t[o]
    same = np.r_[False, cid[1:] == cid[:-1]]
    prev = np.r_[0, t[:-1]]
    t = np.where(same & (t <= prev), prev + 1, t)  # strictly increasing per customer
    xd = run.extract_day_of(t)
    keep = np.r_[(cid[1:] != cid[:-1]) | (xd[1:] != xd[:-1]), True]
    cid, t, xd = cid[keep], t[keep], xd[keep]
    o = argsort_keys(xd, cid, t)
    cid, t, xd = cid[o], t[o], xd[o]
    n = len(cid)
    gold = c["gold0"][cid] | (up_t[cid] <= t)
    bad, badv = pick_bad(run, "customers", n)
    rows = frame(seq=np.arange(n), xd=xd, idx=cid, created=c["created"][cid], updated=t, gold=gold,
                 em2=em_t[cid] <= t, ph2=ph_t[cid] <= t, tzv=ts_variants(rng, n, "erp"), bad=bad,
                 badv=badv)
    c["em_t"], c["ph_t"] = em_t, ph_t
    run.counts["customers"] = {"rows": n, "bad": bad_counts("customers", bad)}
    run.progress(f"customers: {n:,} rows ({int((up_t < INF).sum()):,} upgrades, "
                 f"{int((em_t < INF).sum())} email / {int((ph_t < INF).sum())} phone changes)")
    return rows


def render_identities(con, identities):
    """Table cattr: one row per customer with its formatted identity (unique emails except shared
    mailboxes); the renderers of every entity join it as ``k``."""
    con.register("cnum_df", identities)
    con.execute(f"""
    CREATE TABLE cattr AS
    WITH b AS (
        SELECT c.*, f.disp AS fd, f.latin AS fl, f.slug AS fs, l.disp AS ld, l.latin AS ll, l.slug AS ls
        FROM cnum_df c JOIN fnames f ON f.id = c.fn JOIN lnames l ON l.id = c.ln
    ), e AS (
        SELECT idx, 1 AS which, shared_g >= 0 AS is_shared,
            CASE WHEN shared_g >= 0
                 THEN {sql_list(SHARED_BOXES)}[shared_box + 1] || '@'
                      || {sql_list(COMPANY_A)}[combo // {len(COMPANY_B)} + 1] || '-'
                      || {sql_list(COMPANY_B)}[combo % {len(COMPANY_B)} + 1] || '.com'
                 ELSE email_local(email_form, fs, ls, email_nn) || '@' || {sql_list(DOMAINS)}[dom1 + 1]
            END AS email
        FROM b WHERE has_email
        UNION ALL
        SELECT idx, 2, false, email_local(em2_form, fs, ls, email_nn) || '@' || {sql_list(DOMAINS)}[dom2 + 1]
        FROM b WHERE email_change
    ), r AS (
        SELECT idx, which, is_shared, email,
               row_number() OVER (PARTITION BY email ORDER BY which, idx) AS rn
        FROM e
    ), d AS (
        SELECT idx,
            max(CASE WHEN which = 1 THEN em END) AS email1,
            max(CASE WHEN which = 2 THEN em END) AS email2
        FROM (
            SELECT idx, which,
                CASE WHEN is_shared OR rn = 1 THEN email
                     ELSE split_part(email, '@', 1) || '.' || rn::VARCHAR || '@' || split_part(email, '@', 2)
                END AS em
            FROM r)
        GROUP BY idx
    )
    SELECT b.idx, {zpad('C', 'b.idx + 1', 6)} AS customer_id,
        person_name(b.culture, b.name_style, fd, ld, fl, ll) AS name,
        fl || ' ' || ll AS latin_name, fl AS first_latin, fs AS slug_first, ls AS slug_last,
        d.email1, d.email2,
        CASE WHEN has_phone THEN cc END AS cc,
        CASE WHEN has_phone THEN nat1::VARCHAR END AS nat1,
        CASE WHEN has_phone THEN nat2::VARCHAR END AS nat2,
        {sql_list(REGIONS)}[region + 1] AS region,
        {sql_list(ACQ_CHANNELS)}[acq + 1] AS acq,
        CASE WHEN rep > 0 THEN {zpad('R', 'rep', 3)} END AS rep
    FROM b LEFT JOIN d ON d.idx = b.idx
    """)
    con.unregister("cnum_df")


def render(con, rows):
    """Table out_customers(xd, seq, line): one CSV record per customer row."""
    con.register("cv_df", rows)
    line = csv_record(CUSTOMERS, {
        "customer_id": (f"CASE WHEN v.bad = {MK} THEN NULL ELSE k.customer_id END", False),
        "name": ("k.name", True),
        # no , " or newline in an address
        "email": ("CASE WHEN v.em2 THEN coalesce(k.email2, k.email1) ELSE k.email1 END", False),
        "phone": ("'+' || k.cc::VARCHAR || CASE WHEN v.ph2 THEN k.nat2 ELSE k.nat1 END", False),
        "tier": (f"CASE WHEN v.gold THEN '{GOLD}' ELSE '{STANDARD}' END", False),
        "region": ("k.region", False),
        "acquisition_channel": ("k.acq", False),
        "sales_rep_id": ("k.rep", False),
        "created_at": (ts_or_bad("v.created", "v.tzv", "v.bad", "v.badv", 0), False),
        "updated_at": (ts_or_bad("v.updated", "v.tzv", "v.bad", "v.badv", 1), False),
    })
    con.execute(f"""CREATE TABLE out_customers AS SELECT v.xd, v.seq, {line} AS line
                    FROM cv_df v JOIN cattr k ON k.idx = v.idx ORDER BY v.seq""")
    con.unregister("cv_df")
