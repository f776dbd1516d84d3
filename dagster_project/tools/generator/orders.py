"""Sales: products, orders and order lines (sales/products_*, orders_*, order_lines_*.csv).

Stage 2 draws the catalogue (prices change now and then: a new product version); stage 3 draws
each customer's orders over their active span, their status changes (completed -> cancelled /
returned, cancelled -> completed) and their lines, priced from the catalogue version current
when the order was placed.
"""
from __future__ import annotations

import numpy as np

from dagster_project.defs.ingest.contract import ORDER_LINES, ORDER_STATUSES, ORDERS, PRODUCTS

from .arrays import argsort_keys, cat_choice, codes, frame, offsets
from .messiness import (BAD_ORDER_STATUS, BNUM, MK, OOR, UST, bad_counts, pick_bad, ts_or_bad,
                        unknown_value_or)
from .render import csv_record, sql_list, ts_variants, zpad
from .run import DAY

# the arrays hold an order's status as its position in the contract's ORDER_STATUSES
COMPLETED, CANCELLED, RETURNED = codes(ORDER_STATUSES, "completed", "cancelled", "returned")
# The generator's own vocabularies (free text in the contract); customers.py draws each
# customer's preferred order channel and categories as indexes into these.
ORDER_CHANNELS = ["web", "store", "app", "phone"]
CATEGORIES = ["Coffee", "Tea", "Bakery", "Kitchenware", "Snacks", "Gifts", "Dairy", "Beverages",
              "Chocolate", "Accessories"]
# list price range per category (currency units)
PRICE_RANGE = [(25, 180), (20, 260), (8, 60), (30, 600), (5, 45), (60, 800), (6, 40), (4, 30),
               (10, 120), (15, 300)]
PRODUCT_BASES = [
    ["Yunnan Arabica Beans", "Ethiopia Yirgacheffe", "Colombia Supremo", "House Espresso Blend",
     "Decaf Colombia", "Cold Brew Pack", "Drip Bags, Assorted", "Sumatra Mandheling", "Kenya AA",
     'Hazelnut Roast "Classic"'],
    ["龙井 Longjing Green Tea", "Pu-erh Cake", "Tieguanyin Oolong", "Jasmine Pearls", "English Breakfast",
     "Earl Grey", "Sencha 煎茶", "Chamomile", "Matcha, Ceremonial", "Da Hong Pao"],
    ["Sourdough Loaf", "Croissant", "Pain au Chocolat", "Mooncake, Lotus Seed", "Egg Tart", "Baguette",
     "Cinnamon Roll", "Rye Bread", "Pineapple Bun", "Brezel"],
    ["Pour-Over Kettle", "French Press", "Ceramic Mug, 350ml", "Glass Teapot", "Burr Grinder",
     "Milk Frother", 'Espresso Cups "Duo"', "Bamboo Tea Tray", "Gaiwan Set", "Scale with Timer"],
    ["Almond Biscotti", "Sesame Crisps", "Dried Mango", "Matcha Cookies", "Roasted Cashews",
     "Rice Crackers", "Spicy Peanuts 麻辣花生", "Oat Bar", "Pretzel Sticks", "Seaweed Snack"],
    ["Coffee Lover Hamper", "Tea Ceremony Set", "Holiday Box", "Birthday Bundle", "Corporate Gift, Premium",
     "Mid-Autumn Set", "Chocolate & Tea Duo", "Gift Card Holder", "Tasting Flight", "Thank-You Box"],
    ["Fresh Milk", "Oat Milk", "Greek Yogurt", "Whipping Cream", "Almond Milk", "Butter, Salted",
     "Cheddar", "Soy Milk", "Kefir", "Condensed Milk"],
    ["Sparkling Water", "Lemon Iced Tea", "Cold Brew Can", "Coconut Water", "Kombucha", "Orange Juice",
     "Yuzu Soda", "Ginger Ale", "Chrysanthemum Tea Drink", "Mineral Water"],
    ["Dark 70%", "Milk Chocolate", "Sea Salt Caramel", "Hazelnut Praline", "White Matcha",
     "Orange Peel", "Truffles", "Hot Chocolate Mix", "Cocoa Nibs", "Single Origin Bar"],
    ["Paper Filters", "Reusable Filter", "Travel Tumbler", "Tea Infuser", "Coffee Scoop",
     "Cleaning Tablets", "Canister, Airtight", "Tote Bag", "Coaster Set", "Barista Apron"],
]
PRODUCT_VARIANTS = [
    ["250g", "500g", "1kg", "Gift Tin"], ["50g", "100g", "250g", "Tin of 20 bags"],
    ["Single", "Pack of 4", "Pack of 6", "Family Box"], ["Black", "White", "Steel", "Deluxe"],
    ["Small", "Regular", "Share Pack", "Multipack"], ["Standard", "Large", "Deluxe", "Limited Edition"],
    ["250ml", "500ml", "1L", "2L"], ["330ml", "500ml", "6-pack", "24-pack"],
    ["50g", "100g", "Box of 9", "Box of 16"], ["S", "M", "L", "Set"],
]


def draw_products(run):
    """The product catalogue and its rows (a price change is a new version):
    (catalogue, labels, rows).

    ``catalogue`` (arrays per product and version) is what order lines are priced from."""
    rng = run.rng("products")
    nc = len(CATEGORIES)
    P = int(np.clip(round(30 * (run.n_customers / 300) ** 0.28), 30, 400))
    per_cat = np.full(nc, P // nc) + (np.arange(nc) < P % nc)
    cat = np.repeat(np.arange(nc), per_cat)
    j = np.arange(P) - offsets(per_cat)[cat]
    names = []
    for c in range(nc):  # per category, not per row
        jj = j[cat == c]
        nb, nv = len(PRODUCT_BASES[c]), len(PRODUCT_VARIANTS[c])
        base = np.asarray(PRODUCT_BASES[c], dtype=object)[jj % nb]
        var = np.asarray(PRODUCT_VARIANTS[c], dtype=object)[(jj // nb) % nv]
        series = (jj // (nb * nv) + 1).astype(str).astype(object)
        names.append(base + " " + var + np.where(jj >= nb * nv, " No. " + series, ""))
    name = np.concatenate(names)
    lo = np.asarray([r[0] for r in PRICE_RANGE])[cat]
    hi = np.asarray([r[1] for r in PRICE_RANGE])[cat]
    price = lo + (hi - lo) * rng.random(P) ** 1.5
    price0 = np.maximum(99, (np.round(price * 10) * 10 - 1)).astype(np.int64)  # cents, ends in 9
    cost0 = np.round(price0 * (0.35 + 0.35 * rng.random(P))).astype(np.int64)
    core = np.zeros(P, dtype=bool)
    core[offsets(per_cat)] = True
    late = ~core & (rng.random(P) < 0.2)
    launch_day = np.where(late, run.start_day + (run.n_days * (0.1 + 0.8 * rng.random(P))).astype(np.int64),
                          run.start_day)
    launch = launch_day * DAY + rng.integers(2 * 3600, 4 * 3600, P)  # nightly catalogue job
    launch = np.minimum(launch, run.end - 60)
    INF = np.iinfo(np.int64).max
    span = run.end - launch
    ch1 = rng.random(P) < 0.35
    ch2 = ch1 & (rng.random(P) < 0.30)
    c1 = launch + (span * (0.1 + 0.5 * rng.random(P))).astype(np.int64)
    c2 = c1 + ((run.end - c1) * (0.2 + 0.7 * rng.random(P))).astype(np.int64)
    c1 = np.where(ch1 & (c1 > launch) & (c1 <= run.end), c1, INF)
    c2 = np.where(ch2 & (c1 < INF) & (c2 > c1) & (c2 <= run.end), c2, INF)
    up = lambda p, f: np.maximum(99, (np.round(p * f / 10) * 10 - 1)).astype(np.int64)  # noqa: E731
    price1 = up(price0, 1.02 + 0.10 * rng.random(P))
    price2 = up(price1, 1.02 + 0.08 * rng.random(P))
    cost1 = np.round(cost0 * (1.0 + 0.08 * rng.random(P))).astype(np.int64)
    cost2 = np.round(cost1 * (1.0 + 0.06 * rng.random(P))).astype(np.int64)
    prices = np.stack([price0, price1, price2])
    costs = np.stack([cost0, cost1, cost2])
    catalogue = dict(P=P, per_cat=per_cat, cat_off=offsets(per_cat), launch=launch, c1=c1, c2=c2,
                     prices=prices, costs=costs)
    # versions (a price change is a new version of the product row)
    m1, m2 = np.flatnonzero(c1 < INF), np.flatnonzero(c2 < INF)
    pid = np.concatenate([np.arange(P), m1, m2])
    ver = np.concatenate([np.zeros(P, np.int64), np.ones(len(m1), np.int64), np.full(len(m2), 2)])
    t = np.concatenate([launch, c1[m1], c2[m2]])
    xd = run.extract_day_of(t)
    o = argsort_keys(pid, ver)
    pid, ver, t, xd = pid[o], ver[o], t[o], xd[o]
    keep = np.r_[(pid[1:] != pid[:-1]) | (xd[1:] != xd[:-1]), True]
    pid, ver, t, xd = pid[keep], ver[keep], t[keep], xd[keep]
    o = argsort_keys(xd, pid)
    pid, ver, t, xd = pid[o], ver[o], t[o], xd[o]
    n = len(pid)
    bad, badv = pick_bad(run, "products", n)
    labels = frame(p=np.arange(P), name=name.astype(str), cat=cat)
    rows = frame(seq=np.arange(n), xd=xd, p=pid, t=t, price=prices[ver, pid], cost=costs[ver, pid],
                 tzv=ts_variants(rng, n, "erp"), bad=bad, badv=badv)
    run.counts["products"] = {"rows": n, "bad": bad_counts("products", bad)}
    run.progress(f"products: {P} products, {n} rows")
    return catalogue, labels, rows


def draw_orders(run, profiles):
    """Orders and their status changes: (placed, rows).

    Also delays the first export of some new customers past their first order (late-arriving
    master data) by moving profiles["v0"]; ``placed`` is what draw_lines() needs."""
    rng = run.rng("orders")
    c, N = profiles, run.n_customers
    seg, start, end = c["seg"], c["start"], c["end"]
    span_y = np.maximum(end - start, 0) / (365.25 * DAY)
    rate = np.where(seg == 2, rng.gamma(2.0, 1.0, N), rng.gamma(3.0, 2.7, N))  # orders / year
    n_ord = np.where(seg == 0, 0, np.where(seg == 1, 1, rng.poisson(rate * span_y)))
    n_ord = np.where((seg >= 2) & (n_ord == 0) & (rng.random(N) < 0.5), 1, n_ord).astype(np.int64)
    cust = np.repeat(np.arange(N), n_ord)
    M = len(cust)
    t = start[cust] + (rng.random(M) * (end[cust] - start[cust])).astype(np.int64)
    t = run.at_time_of_day(rng, t, start[cust], run.end)
    cust_off = offsets(n_ord)
    # new customers often buy right away
    first_idx = cust_off[n_ord > 0]
    quick = ~c["legacy"][cust[first_idx]] & (rng.random(len(first_idx)) < 0.6)
    qi = first_idx[quick]
    t[qi] = np.minimum(c["created"][cust[qi]] + rng.integers(300, 2 * DAY, len(qi)), run.end - 60)
    o = argsort_keys(cust, t)  # customer-grouped, chronological
    cust, t = cust[o], t[o]
    to = argsort_keys(t, cust)  # global chronological order
    ono = np.empty(M, dtype=np.int64)
    ono[to] = np.arange(1, M + 1)

    # late-arriving master data: the customer's first export lags its first order
    buyers = np.flatnonzero(n_ord > 0)
    first_t = t[cust_off[buyers]]
    lag = (run.every_days + rng.integers(1, 40, len(buyers))) * DAY + rng.integers(0, DAY, len(buyers))
    cand = np.flatnonzero(~c["legacy"][buyers] & (first_t + lag <= run.end))
    n_late = min(len(cand), max(2, int(round(0.03 * len(cand)))))
    if n_late:
        pick = np.sort(rng.choice(cand, n_late, replace=False))
        c["v0"][buyers[pick]] = first_t[pick] + lag[pick]

    # status history: completed -> cancelled/returned, cancelled -> completed
    v0_t = np.minimum(t + 60 + rng.exponential(45 * 60, M).astype(np.int64), run.end)
    st0 = np.where(rng.random(M) < 0.06, CANCELLED, COMPLETED).astype(np.int8)
    u = rng.random(M)
    ev_st = np.full(M, -1, dtype=np.int8)
    ev_t = np.zeros(M, dtype=np.int64)
    ret = (st0 == COMPLETED) & (u < 0.05)
    can = (st0 == COMPLETED) & (u >= 0.05) & (u < 0.075)
    rec = (st0 == CANCELLED) & (u < 0.15)
    ev_st[ret], ev_t[ret] = RETURNED, t[ret] + (rng.uniform(2, 30, ret.sum()) * DAY).astype(np.int64)
    ev_st[can], ev_t[can] = CANCELLED, t[can] + (rng.uniform(0.05, 3, can.sum()) * DAY).astype(np.int64)
    ev_st[rec], ev_t[rec] = COMPLETED, t[rec] + (rng.uniform(0.5, 5, rec.sum()) * DAY).astype(np.int64)
    has_ev = (ev_st >= 0) & (ev_t <= run.end) & (ev_t > v0_t)
    final_st = np.where(has_ev, ev_st, st0)
    xd0 = run.extract_day_of(v0_t)
    xd1 = run.extract_day_of(ev_t)
    keep0 = ~has_ev | (xd1 != xd0)  # an extract only carries the latest state
    channel = np.where(rng.random(M) < 0.75, c["pref_channel"][cust], rng.integers(0, 4, M)).astype(np.int8)
    i0 = to[keep0[to]]
    i1 = to[has_ev[to]]
    oi = np.concatenate([i0, i1])
    o_t = np.concatenate([v0_t[i0], ev_t[i1]])
    o_st = np.concatenate([st0[i0], ev_st[i1]])
    o_xd = np.concatenate([xd0[i0], xd1[i1]])
    srt = argsort_keys(o_xd, ono[oi], np.r_[np.zeros(len(i0)), np.ones(len(i1))])
    oi, o_t, o_st, o_xd = oi[srt], o_t[srt], o_st[srt], o_xd[srt]
    n = len(oi)
    bad, badv = pick_bad(run, "orders", n)
    rows = frame(seq=np.arange(n), xd=o_xd, ono=ono[oi], cust=cust[oi], ordered=t[oi], updated=o_t,
                 channel=channel[oi], status=o_st, tzv=ts_variants(rng, n, "erp"), bad=bad, badv=badv)
    run.counts["orders"] = {"rows": n, "bad": bad_counts("orders", bad)}
    run.progress(f"orders: {M:,} orders, {n:,} rows ({len(i1):,} status changes, {n_late} late customers)")
    placed = dict(M=M, cust=cust, t=t, to=to, ono=ono, xd0=xd0, final_st=final_st, n_ord=n_ord,
                  cust_off=cust_off)
    return placed, rows


def draw_lines(run, profiles, catalogue, placed):
    """Order lines, generated directly in output order (first extract of the order, order id):
    (history, rows). ``history`` (orders per customer, revenue) serves tickets and surveys."""
    c, p = profiles, catalogue
    M, cust, t, to, ono, xd0 = (placed[k] for k in ("M", "cust", "t", "to", "ono", "xd0"))
    rng = run.rng("lines")
    n_lines = (cat_choice(rng, [0.26, 0.25, 0.2, 0.13, 0.09, 0.07], M) + 1).astype(np.int64)
    op = to[argsort_keys(xd0[to], ono[to])]
    cnt = n_lines[op]
    L = int(cnt.sum())
    lo = np.repeat(op, cnt)
    line_no = (np.arange(L) - np.repeat(offsets(cnt), cnt) + 1).astype(np.int16)
    lc = cust[lo]
    lt = t[lo]
    slot = cat_choice(rng, [0.5, 0.3, 0.2], L)
    cat = np.where(rng.random(L) < 0.75, c["pref_cat"][lc, slot], rng.integers(0, len(CATEGORIES), L))
    del lc, slot
    ccount = p["per_cat"][cat]
    prod = p["cat_off"][cat] + np.minimum((ccount * rng.random(L) ** 1.8).astype(np.int64), ccount - 1)
    prod = np.where(p["launch"][prod] > lt, p["cat_off"][cat], prod)  # not launched yet -> core item
    del cat, ccount
    ver = (lt >= p["c1"][prod]).astype(np.int64) + (lt >= p["c2"][prod])
    del lt
    price = p["prices"][ver, prod]
    pcost = p["costs"][ver, prod]
    del ver
    qty = np.minimum(rng.geometric(0.55, L), 12).astype(np.int64)
    bulk = np.flatnonzero(rng.random(L) < 0.01)
    qty[bulk] = rng.integers(12, 49, len(bulk))
    has_disc = rng.random(L) < 0.22
    disc = np.where(has_disc, np.round(price * qty * rng.uniform(0.05, 0.3, L)), 0).astype(np.int64)
    cost = np.where(rng.random(L) < 0.35, pcost, -1)
    del pcost, has_disc
    bad, badv = pick_bad(run, "order_lines", L)
    # net revenue of completed orders, for the survey's share of wallet
    rev = np.bincount(lo, weights=price * qty - disc, minlength=M).astype(np.int64)
    rev = np.where(placed["final_st"] == COMPLETED, rev, 0)
    rows = frame(seq=np.arange(L), xd=xd0[lo], ono=ono[lo], ln=line_no, p=prod.astype(np.int16),
                 q=qty, price=price, disc=disc, cost=cost, bad=bad, badv=badv)
    run.counts["order_lines"] = {"rows": L, "bad": bad_counts("order_lines", bad)}
    history = dict(M=M, cust=cust, t=t, n_ord=placed["n_ord"], cust_off=placed["cust_off"],
                   cum_rev=np.r_[0, np.cumsum(rev)])
    run.progress(f"order_lines: {L:,} rows")
    return history, rows


def render_products(con, labels, rows):
    """Table out_products(xd, seq, line)."""
    con.register("pmeta_df", labels)
    con.register("pnum_df", rows)
    line = csv_record(PRODUCTS, {
        "product_id": (zpad("P", "v.p + 1", 4), False),
        "product_name": ("m.name", True),
        "category": (f"{sql_list(CATEGORIES)}[m.cat + 1]", False),
        "unit_cost": (f"CASE WHEN v.bad = {BNUM} AND v.badv % 2 = 1 THEN bad_num_csv(v.badv // 2) "
                      f"ELSE money(v.cost) END", False),
        "list_price": (f"CASE WHEN v.bad = {BNUM} AND v.badv % 2 = 0 THEN bad_num_csv(v.badv // 2) "
                       f"ELSE money(v.price) END", False),
        "updated_at": (ts_or_bad("v.t", "v.tzv", "v.bad", "v.badv"), False),
    })
    con.execute(f"""CREATE TABLE out_products AS SELECT v.xd, v.seq, {line} AS line
                    FROM pnum_df v JOIN pmeta_df m ON m.p = v.p ORDER BY v.seq""")
    con.unregister("pmeta_df")
    con.unregister("pnum_df")


def render_orders(con, rows):
    """Table out_orders(xd, seq, line)."""
    con.register("onum_df", rows)
    line = csv_record(ORDERS, {
        "order_id": (f"CASE WHEN bad = {MK} THEN NULL ELSE {zpad('O', 'ono', 8)} END", False),
        "customer_id": (zpad("C", "cust + 1", 6), False),
        "ordered_at": (ts_or_bad("ordered", "tzv", "bad", "badv", 0), False),
        "channel": (f"{sql_list(ORDER_CHANNELS)}[channel + 1]", False),
        "status": (unknown_value_or(UST, "bad", "badv", BAD_ORDER_STATUS,
                                    f"{sql_list(ORDER_STATUSES)}[status + 1]"), False),
        "updated_at": (ts_or_bad("updated", "tzv", "bad", "badv", 1), False),
    })
    con.execute(f"CREATE TABLE out_orders AS SELECT xd, seq, {line} AS line FROM onum_df")
    con.unregister("onum_df")


def render_lines(con, rows):
    """Table out_order_lines(xd, seq, line)."""
    con.register("lnum_df", rows)
    line = csv_record(ORDER_LINES, {
        "order_id": (f"CASE WHEN bad = {MK} THEN NULL ELSE {zpad('O', 'ono', 8)} END", False),
        "line_number": ("ln", False),
        "product_id": (zpad("P", "p + 1", 4), False),
        "quantity": (f"CASE WHEN bad = {BNUM} AND badv % 2 = 0 THEN bad_num_csv(badv // 2) "
                     f"WHEN bad = {OOR} THEN (-q)::VARCHAR ELSE q::VARCHAR END", False),
        "unit_price": (f"CASE WHEN bad = {BNUM} AND badv % 2 = 1 THEN bad_num_csv(badv // 2) "
                       f"ELSE money(price) END", False),
        "discount_amount": ("money(disc)", False),
        "unit_cost": ("CASE WHEN cost < 0 THEN NULL ELSE money(cost) END", False),
    })
    con.execute(f"CREATE TABLE out_order_lines AS SELECT xd, seq, {line} AS line FROM lnum_df")
    con.unregister("lnum_df")
