"""Surveys: survey-tool responses (survey/responses_*.csv).

Stage 6 draws who answers (a customer, often some days after an order, or someone the ERP does
not know), their scores (driven by the customer's latent satisfaction), the category spend they
state (near what they spent with us in the 12 months before), and a comment in their language.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.defs.ingest.contract import RESPONSES, SERVQUAL_DIMENSIONS

from .arrays import argsort_keys, cat_choice, frame, offsets
from .contacts import (contact_modes, contact_sql, customer_id_mode, customer_id_sql, pick_people,
                       stranger_columns)
from .messiness import DUP, MK, OOR, bad_counts, pick_bad, ts_or_bad
from .render import csv_record, ts_variants, zpad
from .run import DAY

# survey comments: [sentiment][language] -> texts  (sentiment 0 neg, 1 neutral, 2 pos)
COMMENT_LANGS = ["zh", "en", "de", "es", "ja", "fr"]
COMMENT_LANG_P = [0.42, 0.26, 0.09, 0.09, 0.08, 0.06]
COMMENTS = [
    [  # negative
        ["配送太慢了，等了一个星期。", "咖啡豆不新鲜，和描述的\"现烘\"不一样！", "客服态度很差，\n问题到现在都没有解决。"],
        ["Delivery was late, again.", 'The "fresh" croissants were stale, and the box was crushed.',
         "Waited 40 minutes on the phone.\nNobody called back."],
        ["Lieferung kam zu spät, und die Verpackung war beschädigt.", 'Der "frische" Kaffee war alt.',
         "Kundenservice schwer erreichbar.\nSehr enttäuschend."],
        ["El pedido llegó tarde y incompleto.", 'El café "recién tostado" no era fresco, qué pena.',
         "Nadie respondió a mi correo.\nNo volveré a comprar."],
        ["配達が遅すぎます。", "「新鮮」と書いてあったのに、パンが固かった。", "問い合わせの返事がありません。\nとても残念です。"],
        ["Livraison en retard, produit abîmé.", 'Le service client, "disponible 24h/24", ne répond jamais.',
         "Trop cher pour la qualité.\nDéçu."],
    ],
    [  # neutral
        ["还可以，价格有点贵。", "东西不错，但是包装一般。", "总体满意，希望有更多优惠。"],
        ["It's OK, a bit pricey.", "Good coffee, average service.", "Fine overall; the app could be faster."],
        ["Ganz okay, etwas teuer.", "Guter Tee, aber lange Lieferzeit.", "Passt, nichts Besonderes."],
        ["Está bien, aunque un poco caro.", "Buen producto, servicio normal.", "Correcto, sin más."],
        ["まあまあです。", "商品は良いが、少し高い。", "普通です、特に問題なし。"],
        ["Correct, sans plus.", "Bon produit, mais un peu cher.", "Service moyen, produits corrects."],
    ],
    [  # positive
        ["非常好！咖啡很香，会再来买。", "服务很周到，快递也很快。", "面包很好吃，\n推荐给朋友了！"],
        ["Great coffee, fast delivery!", 'Love the "House Espresso" blend, my go-to, every week.',
         "Staff were super friendly.\nWill definitely come back!"],
        ["Sehr guter Kaffee, schnelle Lieferung!", 'Der "Hausblend" ist großartig, danke!',
         "Freundliches Personal.\nGerne wieder."],
        ["¡Excelente café y entrega rápida!", 'El pan es "de otro nivel", muy recomendable.',
         "Atención muy amable.\n¡Volveré!"],
        ["とても美味しいコーヒーです！", "対応が丁寧で、配送も早かった。", "パンが最高です。\nまた買います！"],
        ["Excellent café, livraison rapide !", 'Le "Earl Grey" est parfait, merci.',
         "Personnel très aimable.\nJe recommande !"],
    ],
]


def create_tables(con) -> None:
    """Table comments(id, text): every comment text, ids in (sentiment, language, k) order."""
    flat = [COMMENTS[s][lg][k] for s in range(3) for lg in range(len(COMMENT_LANGS))
            for k in range(len(COMMENTS[s][lg]))]
    con.register("comments_df", pd.DataFrame({"id": np.arange(len(flat)), "text": flat}))
    con.execute("CREATE TABLE comments AS SELECT * FROM comments_df")
    con.unregister("comments_df")


def draw_responses(run, profiles, history, n_tickets):
    """Survey responses (duplicates included, right after their original): rows.

    ``n_tickets`` keeps the strangers' phone numbers apart from the ticket requesters'."""
    rng = run.rng("responses")
    c, o = profiles, history
    R = int(rng.poisson(run.n_customers * run.scale * 0.3))
    cust, sub = pick_people(run, profiles, history, rng, R, 0.78, 0.7, 5.0)
    srt = argsort_keys(sub, cust)
    cust, sub = cust[srt], sub[srt]
    kc = np.maximum(cust, 0)
    known = cust >= 0
    cid_mode, fake = customer_id_mode(run, rng, cust, 0.35, 0.01)
    em, pm = contact_modes(profiles, rng, cust, sub, 0.90, np.full(R, 0.32), 0.08)
    z = np.where(known, c["sat"][kc], rng.normal(-0.2, 1, R))
    nps = np.clip(np.round(7.2 + 2.3 * z + rng.normal(0, 0.8, R)), 0, 10).astype(np.int16)
    csat = np.clip(np.round(3.8 + 0.9 * z + rng.normal(0, 0.5, R)), 1, 5).astype(np.int16)
    n_dims = len(SERVQUAL_DIMENSIONS)
    dims = np.clip(np.round(3.7 + 0.8 * z[:, None] + rng.normal(0, 0.7, (R, n_dims))), 1, 5).astype(np.int16)
    dims[rng.random((R, n_dims)) < 0.06] = -1
    # what the customer spent with us in the 12 months before answering (completed orders)
    key = o["cust"].astype(np.int64) * (1 << 34) + (o["t"] - run.start + (1 << 33))
    qk_hi = kc.astype(np.int64) * (1 << 34) + (sub - run.start + (1 << 33))
    qk_lo = qk_hi - 365 * DAY
    cr = o["cum_rev"]
    ours = cr[np.searchsorted(key, qk_hi, "right")] - cr[np.searchsorted(key, qk_lo, "right")]
    ours = np.where(known, ours, 0)
    under = rng.random(R) < 0.15  # some state a category spend below what they spent with us
    spend = np.where(ours > 0, ours * np.where(under, rng.uniform(0.4, 0.95, R), rng.uniform(1.1, 4.0, R)),
                     rng.lognormal(np.log(80000), 0.9, R))
    spend = np.where(rng.random(R) < 0.7, np.round(spend / 100) * 100, np.round(spend)).astype(np.int64)
    spend = np.where(rng.random(R) < 0.25, -1, spend)
    has_comment = rng.random(R) < 0.55
    sent = np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2))
    lang = cat_choice(rng, COMMENT_LANG_P, R)
    cpl = np.array([[len(COMMENTS[s][lg]) for lg in range(len(COMMENT_LANGS))] for s in range(3)])
    coff = offsets(cpl.ravel()).reshape(cpl.shape)
    com = np.where(has_comment, coff[sent, lang] + (rng.random(R) * cpl[sent, lang]).astype(np.int64), -1)
    xd = run.extract_day_of(sub)
    bad, badv = pick_bad(run, "responses", R)
    dup = bad == DUP
    bad[dup] = 0
    people = stranger_columns(rng, R, 3 * run.n_customers + 2 * n_tickets + 10)
    tzv = ts_variants(rng, R, "survey")
    # duplicates: exact repeats written right after the original
    base = np.concatenate([np.arange(R), np.flatnonzero(dup)])
    is_dup = np.r_[np.zeros(R, np.int64), np.ones(int(dup.sum()), np.int64)]
    o2 = argsort_keys(xd[base], base, is_dup)
    base = base[o2]
    n = len(base)
    cols = dict(seq=np.arange(n), xd=xd[base], rid=1 + base, sub=sub[base], cust=cust[base],
                cid_mode=cid_mode[base], fake=fake[base], email_mode=em[base], phone_mode=pm[base],
                nps=nps[base], csat=csat[base], spend=spend[base], com=com[base], tzv=tzv[base],
                bad=bad[base], badv=badv[base])
    for k, dim in enumerate(SERVQUAL_DIMENSIONS):
        cols[dim] = dims[base, k]
    cols.update({k: v[base] for k, v in people.items()})
    rows = frame(**cols)
    counts = bad_counts("responses", bad)
    counts["duplicate"] = int(dup.sum())
    run.counts["responses"] = {"rows": n, "bad": counts}
    run.progress(f"responses: {R:,} responses, {n:,} rows")
    return rows


def render(con, rows):
    """Table out_responses(xd, seq, line): one CSV record per response."""
    con.register("r_df", rows)
    email, phone = contact_sql("r")
    # out-of-range scores lie outside the contract's 0-10 (nps) and 1-5 (csat, dimensions)
    scores = {dim: (f"CASE WHEN r.{dim} < 0 THEN NULL ELSE r.{dim}::VARCHAR END", False)
              for dim in SERVQUAL_DIMENSIONS}
    first = SERVQUAL_DIMENSIONS[0]
    scores[first] = (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 2 THEN '7' ELSE {scores[first][0]} END", False)
    line = csv_record(RESPONSES, {
        "response_id": (f"CASE WHEN r.bad = {MK} THEN NULL ELSE {zpad('S', 'r.rid', 7)} END", False),
        "submitted_at": (ts_or_bad("r.sub", "r.tzv", "r.bad", "r.badv"), False),
        "customer_id": (customer_id_sql("r"), False),
        "email": (email, False),  # built from slugs, domains, digits: never needs quoting
        "phone": (phone, False),
        "nps": (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 0 THEN (CASE WHEN r.badv % 2 = 0 THEN '11' ELSE '-1' END) "
                f"ELSE r.nps::VARCHAR END", False),
        "csat": (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 1 THEN (CASE WHEN r.badv % 2 = 0 THEN '0' ELSE '6' END) "
                 f"ELSE r.csat::VARCHAR END", False),
        **scores,
        "category_spend_12m": ("CASE WHEN r.spend < 0 THEN NULL ELSE money(r.spend) END", False),
        "comment": ("cm.text", True),
    })
    con.execute(f"""
    CREATE TABLE out_responses AS SELECT r.xd, r.seq, {line} AS line
    FROM r_df r
    LEFT JOIN cattr k ON k.idx = r.cust
    JOIN fnames uf ON uf.id = r.u_fn JOIN lnames ul ON ul.id = r.u_ln
    LEFT JOIN comments cm ON cm.id = r.com
    ORDER BY r.seq
    """)
    con.unregister("r_df")
