"""Who a ticket or survey response comes from, and how they write their contact details.

Shared by service.py and surveys.py: a contact is a known customer (index) or someone the ERP
does not know (-1); the ids, emails and phones they give match the ERP's, an older one, or none.
"""
from __future__ import annotations

import numpy as np

from .arrays import cat_choice, scramble
from .people import (CN_MOBILE_PREFIX, CULTURE_P, DOMAINS, EMAIL_VARIANT_P, PHONE_VARIANT_P,
                     draw_name_ids)
from .render import sql_list, zpad
from .run import DAY


def pick_people(run, profiles, history, rng, n, known_share, anchor_share, after_days):
    """Who a ticket/response comes from (customer index or -1) and when."""
    c, o, N = profiles, history, run.n_customers
    known = rng.random(n) < known_share
    w = 1.0 + np.minimum(o["n_ord"], 50)
    cum = np.cumsum(w / w.sum())
    pick = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), N - 1)
    cust = np.where(known, pick, -1)
    kc = np.maximum(cust, 0)
    lo = np.where(known, np.maximum(c["start"][kc], run.start), run.start)
    hi = run.end - 7200
    t = lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64)
    t = run.at_time_of_day(rng, t, lo, hi)
    nord = o["n_ord"][kc]
    anchored = known & (nord > 0) & (rng.random(n) < anchor_share)
    oi = o["cust_off"][kc] + (rng.random(n) * np.maximum(nord, 1)).astype(np.int64)
    oi = np.minimum(oi, max(o["M"] - 1, 0))
    if o["M"]:
        at = o["t"][oi] + (rng.exponential(after_days, n) * DAY).astype(np.int64) + 600
        t = np.where(anchored, np.minimum(at, hi), t)
    return cust, t


def contact_modes(profiles, rng, cust, t, p_email, p_phone, p_unknown_email):
    """email_mode: 0 none, 1 ERP email, 2 ERP email after change, 3 address unknown to the ERP.
    phone_mode: 0 none, 1 ERP phone, 2 ERP phone after change, 3 number unknown to the ERP."""
    c = profiles
    n = len(cust)
    known = cust >= 0
    kc = np.maximum(cust, 0)
    erp_email = known & c["has_email"][kc]
    erp_phone = known & c["has_phone"][kc]
    use2e = c["em_t"][kc] <= t
    use2p = c["ph_t"][kc] <= t
    ue = rng.random(n)
    em = np.where(ue >= p_email, 0, np.where(erp_email & (ue >= p_unknown_email), np.where(use2e, 2, 1), 3))
    up = rng.random(n)
    pm = np.where(up >= p_phone, 0, np.where(erp_phone & (up >= 0.1 * p_phone), np.where(use2p, 2, 1), 3))
    return em.astype(np.int8), pm.astype(np.int8)


def stranger_columns(rng, n, offset):
    """Name / address / number of people the ERP does not know, and format variants.

    ``offset`` keeps their phone numbers apart from the customers' and each other's."""
    culture = cat_choice(rng, CULTURE_P, n)
    fn, ln = draw_name_ids(rng, culture)
    pref = np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), n)]
    return dict(
        u_culture=culture, u_fn=fn, u_ln=ln, u_style=rng.integers(0, 100, n).astype(np.int8),
        u_dom=rng.integers(0, len(DOMAINS), n), u_d4=rng.integers(1000, 10000, n),
        u_nat=pref * 10**8 + scramble(np.arange(n, dtype=np.int64) + offset),
        email_v=cat_choice(rng, EMAIL_VARIANT_P, n), phone_v=cat_choice(rng, PHONE_VARIANT_P, n),
    )


def customer_id_mode(run, rng, cust, p_real, p_fake):
    """0 empty, 1 the right customer_id, 2 a customer_id that does not exist."""
    n = len(cust)
    u = rng.random(n)
    mode = np.where(u < p_fake, 2, np.where((cust >= 0) & (u < p_fake + p_real), 1, 0)).astype(np.int8)
    fake = run.n_customers + 1 + rng.integers(0, max(1000, run.n_customers // 10), n)
    return mode, fake


def contact_sql(a):
    """SQL for the email / phone of a ticket requester or survey respondent.

    ``a`` is the row's alias; the query joins cattr ``k`` (the customer) and fnames ``uf`` /
    lnames ``ul`` (the stranger's name)."""
    email = f"""CASE {a}.email_mode
        WHEN 1 THEN fmt_email(k.email1, {a}.email_v)
        WHEN 2 THEN fmt_email(coalesce(k.email2, k.email1), {a}.email_v)
        WHEN 3 THEN fmt_email(coalesce(k.slug_first, uf.slug) || coalesce(k.slug_last, ul.slug)
                              || {a}.u_d4::VARCHAR || '@'
                              || {sql_list(DOMAINS)}[{a}.u_dom + 1], {a}.email_v % 2)
        END"""
    phone = f"""CASE {a}.phone_mode
        WHEN 1 THEN fmt_phone(k.cc, k.nat1, {a}.phone_v)
        WHEN 2 THEN fmt_phone(k.cc, k.nat2, {a}.phone_v)
        WHEN 3 THEN fmt_phone(86, {a}.u_nat::VARCHAR, {a}.phone_v)
        END"""
    return email, phone


def customer_id_sql(a):
    """SQL for the customer_id a contact gives (see customer_id_mode)."""
    return f"CASE {a}.cid_mode WHEN 1 THEN k.customer_id WHEN 2 THEN {zpad('C', f'{a}.fake', 6)} END"
