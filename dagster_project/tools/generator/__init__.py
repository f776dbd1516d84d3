"""Deterministic, vectorised generator of realistic source extracts.

Produces the three source systems' extract folders that the warehouse ingests:

* ``sales/``   ERP: customers, products, orders, order_lines (CSV)
* ``service/`` help desk: tickets (JSON Lines)
* ``survey/``  survey tool: responses (CSV)

Files are named ``<entity>_<YYYY-MM-DD>.<ext>`` (the extract date).  Every
extract date gets one file per entity that changed in it; an extract with no
rows for an entity writes no file (the warehouse rejects empty and header-only files).

Design
------
All randomness is drawn with numpy (``default_rng(seed).spawn``), one stream per
stage, fully vectorised (no Python loop per row; sorts use packed int64 keys
with a stable sort).  DuckDB is used only for deterministic string work: every
output row is rendered once as its final text (RFC 4180 CSV record or compact
JSON object) and rows are concatenated per extract with an ordered
``string_agg`` (total order on ``seq``); Python only writes the resulting bytes,
one write per file chunk.  Same arguments therefore give byte-identical output.

Each record *version* (a state of a record with its ``updated_at``) is written
to the first extract dated on or after the UTC date of its ``updated_at``.  An
extract behaves like an incremental "changed since last run" query: when a
record changed several times between two extracts only its latest state is
exported.  Order lines go with the first export of their order; responses go
with their ``submitted_at``.  With ``full_dump_until=D0`` every version dated
<= D0 is collapsed into one initial extract dated D0.

Bad rows (rate ``bad_row_rate``) corrupt existing rows in place (the row count
is unchanged), except ``duplicate`` which appends an exact repeat of a survey
response in the same file.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

DAY = 86400

ENTITIES = ("customers", "products", "orders", "order_lines", "tickets", "responses")
FOLDER = {
    "customers": "sales",
    "products": "sales",
    "orders": "sales",
    "order_lines": "sales",
    "tickets": "service",
    "responses": "survey",
}
EXT = {e: ("jsonl" if e == "tickets" else "csv") for e in ENTITIES}
HEADERS = {
    "customers": [
        "customer_id", "name", "email", "phone", "tier", "region",
        "acquisition_channel", "sales_rep_id", "created_at", "updated_at",
    ],
    "products": ["product_id", "product_name", "category", "unit_cost", "list_price", "updated_at"],
    "orders": ["order_id", "customer_id", "ordered_at", "channel", "status", "updated_at"],
    "order_lines": [
        "order_id", "line_number", "product_id", "quantity", "unit_price",
        "discount_amount", "unit_cost",
    ],
    "tickets": [
        "ticket_id", "customer_id", "requester", "created_at", "updated_at",
        "first_response_at", "solved_at", "channel", "type", "priority", "status",
        "satisfaction", "tags",
    ],
    "responses": [
        "response_id", "submitted_at", "customer_id", "email", "phone", "nps", "csat",
        "reliability", "assurance", "tangibles", "empathy", "responsiveness",
        "category_spend_12m", "comment",
    ],
}

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

# --------------------------------------------------------------------------
# Reference vocabularies
# --------------------------------------------------------------------------
REGIONS = ["north", "south", "east", "west", "central"]
ACQ_CHANNELS = ["web", "store", "referral", "partner", "ads"]
ORDER_CHANNELS = ["web", "store", "app", "phone"]
ORDER_STATUS = ["completed", "cancelled", "returned"]
BAD_ORDER_STATUS = ["shipped", "on_hold", "backordered"]
T_CHANNELS = ["email", "phone", "chat", "web"]
T_TYPES = ["complaint", "question", "incident", "return", "request"]
T_PRIORITIES = ["low", "normal", "high", "urgent"]
T_STATUS = ["new", "open", "pending", "solved", "closed"]
BAD_T_STATUS = ["escalated", "on-hold", "archived"]
BAD_T_TYPES = ["feedback", "compliment", "spam"]
TYPE_TAGS = [
    ["late_delivery", "damaged", "wrong_item", "quality", "staff"],
    ["product_info", "opening_hours", "membership", "pricing"],
    ["website_down", "payment_failed", "app_crash", "login"],
    ["refund", "exchange", "damaged_goods", "return_label"],
    ["wholesale", "invoice", "address_change", "custom_order"],
]
GENERAL_TAGS = ["vip", "repeat_contact", "social_media", "escalation_risk", "中文"]

CULTURES = ["zh", "en", "de", "es", "ja"]
CULTURE_P = [0.55, 0.20, 0.08, 0.08, 0.09]
# (display, latin, slug)
FIRST_NAMES = {
    "zh": [("伟", "Wei", "wei"), ("芳", "Fang", "fang"), ("娜", "Na", "na"), ("敏", "Min", "min"),
           ("静", "Jing", "jing"), ("丽", "Li", "li"), ("强", "Qiang", "qiang"), ("磊", "Lei", "lei"),
           ("军", "Jun", "jun"), ("洋", "Yang", "yang"), ("勇", "Yong", "yong"), ("艳", "Yan", "yan"),
           ("杰", "Jie", "jie"), ("娟", "Juan", "juan"), ("涛", "Tao", "tao"), ("明", "Ming", "ming"),
           ("超", "Chao", "chao"), ("秀英", "Xiuying", "xiuying"), ("霞", "Xia", "xia"), ("平", "Ping", "ping"),
           ("刚", "Gang", "gang"), ("桂英", "Guiying", "guiying"), ("晓东", "Xiaodong", "xiaodong"),
           ("海燕", "Haiyan", "haiyan"), ("建华", "Jianhua", "jianhua"), ("志强", "Zhiqiang", "zhiqiang"),
           ("婷婷", "Tingting", "tingting"), ("子涵", "Zihan", "zihan"), ("浩然", "Haoran", "haoran"),
           ("欣怡", "Xinyi", "xinyi")],
    "en": [(n, n, n.lower()) for n in (
        "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
        "Elizabeth", "William", "Susan", "Emma", "Oliver", "Sophie", "Liam", "Olivia", "Noah",
        "Grace", "Daniel")],
    "de": [("Jürgen", "Jürgen", "juergen"), ("Anna", "Anna", "anna"), ("Lukas", "Lukas", "lukas"),
           ("Lena", "Lena", "lena"), ("Felix", "Felix", "felix"), ("Jörg", "Jörg", "joerg"),
           ("Katrin", "Katrin", "katrin"), ("Matthias", "Matthias", "matthias"), ("Sabine", "Sabine", "sabine"),
           ("Uwe", "Uwe", "uwe"), ("Björn", "Björn", "bjoern"), ("Claudia", "Claudia", "claudia")],
    "es": [("José", "José", "jose"), ("María", "María", "maria"), ("Juan", "Juan", "juan"),
           ("Carmen", "Carmen", "carmen"), ("Luis", "Luis", "luis"), ("Lucía", "Lucía", "lucia"),
           ("Javier", "Javier", "javier"), ("Ana", "Ana", "ana"), ("Carlos", "Carlos", "carlos"),
           ("Sofía", "Sofía", "sofia"), ("Miguel", "Miguel", "miguel"), ("Elena", "Elena", "elena")],
    "ja": [("花子", "Hanako", "hanako"), ("太郎", "Taro", "taro"), ("陽翔", "Haruto", "haruto"),
           ("結衣", "Yui", "yui"), ("蓮", "Ren", "ren"), ("葵", "Aoi", "aoi"), ("大翔", "Hiroto", "hiroto"),
           ("陽菜", "Hina", "hina"), ("翔太", "Shota", "shota"), ("美咲", "Misaki", "misaki")],
}
LAST_NAMES = {
    "zh": [("王", "Wang", "wang"), ("李", "Li", "li"), ("张", "Zhang", "zhang"), ("刘", "Liu", "liu"),
           ("陈", "Chen", "chen"), ("杨", "Yang", "yang"), ("黄", "Huang", "huang"), ("赵", "Zhao", "zhao"),
           ("吴", "Wu", "wu"), ("周", "Zhou", "zhou"), ("徐", "Xu", "xu"), ("孙", "Sun", "sun"),
           ("马", "Ma", "ma"), ("朱", "Zhu", "zhu"), ("胡", "Hu", "hu"), ("郭", "Guo", "guo"),
           ("何", "He", "he"), ("林", "Lin", "lin"), ("高", "Gao", "gao"), ("罗", "Luo", "luo"),
           ("欧阳", "Ouyang", "ouyang"), ("司马", "Sima", "sima")],
    "en": [("Smith", "Smith", "smith"), ("Johnson", "Johnson", "johnson"), ("Brown", "Brown", "brown"),
           ("Taylor", "Taylor", "taylor"), ("Wilson", "Wilson", "wilson"), ("Davies", "Davies", "davies"),
           ("Evans", "Evans", "evans"), ("Thomas", "Thomas", "thomas"), ("Roberts", "Roberts", "roberts"),
           ("Walker", "Walker", "walker"), ("O'Brien", "O'Brien", "obrien"), ("Clarke", "Clarke", "clarke"),
           ("Wright", "Wright", "wright"), ("Green", "Green", "green"), ("Hall", "Hall", "hall"),
           ("Wood", "Wood", "wood"), ("Harris", "Harris", "harris"), ("Lewis", "Lewis", "lewis"),
           ("Martin", "Martin", "martin"), ("Cooper", "Cooper", "cooper")],
    "de": [("Müller", "Müller", "mueller"), ("Schmidt", "Schmidt", "schmidt"),
           ("Schneider", "Schneider", "schneider"), ("Fischer", "Fischer", "fischer"),
           ("Weber", "Weber", "weber"), ("Meyer", "Meyer", "meyer"), ("Wagner", "Wagner", "wagner"),
           ("Becker", "Becker", "becker"), ("Schäfer", "Schäfer", "schaefer"), ("Koch", "Koch", "koch"),
           ("Groß", "Groß", "gross"), ("Hoffmann", "Hoffmann", "hoffmann")],
    "es": [("García", "García", "garcia"), ("Martínez", "Martínez", "martinez"), ("López", "López", "lopez"),
           ("Sánchez", "Sánchez", "sanchez"), ("Pérez", "Pérez", "perez"), ("Gómez", "Gómez", "gomez"),
           ("Fernández", "Fernández", "fernandez"), ("Rodríguez", "Rodríguez", "rodriguez"),
           ("Díaz", "Díaz", "diaz"), ("Muñoz", "Muñoz", "munoz"), ("Álvarez", "Álvarez", "alvarez"),
           ("Navarro", "Navarro", "navarro")],
    "ja": [("佐藤", "Sato", "sato"), ("鈴木", "Suzuki", "suzuki"), ("高橋", "Takahashi", "takahashi"),
           ("田中", "Tanaka", "tanaka"), ("伊藤", "Ito", "ito"), ("渡辺", "Watanabe", "watanabe"),
           ("山本", "Yamamoto", "yamamoto"), ("中村", "Nakamura", "nakamura"),
           ("小林", "Kobayashi", "kobayashi"), ("加藤", "Kato", "kato")],
}
# email domains: zh customers draw from [0, 7), the others from [5, 14)
DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com",
           "yahoo.com", "hotmail.com", "icloud.com", "gmx.de", "web.de", "proton.me", "yahoo.co.jp"]
COMPANY_A = ["lotus", "bluebird", "summit", "golden", "harbor", "jade", "maple", "silver", "sunrise",
             "river", "north", "oak", "pearl", "redstone", "cedar", "willow", "crystal", "amber", "coral",
             "eastwind"]
COMPANY_B = ["cafe", "bakery", "roasters", "trading", "studio", "kitchen", "deli", "teahouse",
             "catering", "foods", "hotel", "office", "bistro", "market", "design", "clinic", "school",
             "club", "lounge", "partners"]
SHARED_BOXES = ["info", "office", "orders", "hello"]
# country calling codes: 0 is China (+86), others foreign
CCS = [86, 1, 44, 49, 81, 852]
# per culture: probability of a foreign number and the distribution over CCS[1:]
FOREIGN_P = [0.02, 0.60, 0.60, 0.40, 0.50]
FOREIGN_DIST = [
    [0.40, 0.10, 0.05, 0.05, 0.40],
    [0.55, 0.45, 0.00, 0.00, 0.00],
    [0.05, 0.10, 0.85, 0.00, 0.00],
    [0.40, 0.30, 0.30, 0.00, 0.00],
    [0.10, 0.00, 0.00, 0.90, 0.00],
]
CN_MOBILE_PREFIX = [130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
                    150, 151, 152, 153, 155, 156, 157, 158, 159,
                    180, 181, 182, 183, 184, 185, 186, 187, 188, 189]

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

# timestamp renderings: (offset seconds, suffix, separator)
TS_OFFSETS = [0, 0, 28800, -18000, 3600, 32400, -25200, 0, 0, 0]
TS_SUFFIX = ["Z", "+00:00", "+08:00", "-05:00", "+01:00", "+09:00", "-07:00", "", "", ".000Z"]
TS_P = {
    "erp": [0.34, 0.24, 0.14, 0.02, 0.015, 0.015, 0.01, 0.16, 0.06, 0.0],
    "desk": [0.50, 0.14, 0.10, 0.02, 0.01, 0.01, 0.01, 0.05, 0.04, 0.12],
    "survey": [0.40, 0.20, 0.15, 0.02, 0.01, 0.01, 0.01, 0.14, 0.06, 0.0],
}
# hour-of-day weights, local China time (UTC+8)
LOCAL_HOUR_W = np.array([1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2, 4, 6, 7, 7, 6.5, 6, 6, 6, 6, 6.5,
                         7, 8, 8, 7, 5, 2.5])
EMAIL_VARIANT_P = [0.50, 0.10, 0.15, 0.08, 0.07, 0.04, 0.06]
PHONE_VARIANT_P = [0.25, 0.20, 0.15, 0.10, 0.15, 0.10, 0.05]


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(f"[generate] {msg}", file=sys.stderr, flush=True)


def _epoch_day(s: str) -> int:
    return int((np.datetime64(s, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def _day_str(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


def _offsets(counts: np.ndarray) -> np.ndarray:
    off = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=off[1:])
    return off


def _bij(x: np.ndarray, mod: int = 10**8) -> np.ndarray:
    """Bijection of [0, mod) used to make unique phone numbers."""
    return (x.astype(np.int64) * 48271 + 12345) % mod


def _cat_choice(rng, probs, n) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1).astype(np.int8)


def _rowwise_choice(rng, cum_rows: np.ndarray, row_idx: np.ndarray) -> np.ndarray:
    """Pick a column per row from per-row cumulative probabilities."""
    u = rng.random(len(row_idx))
    return (u[:, None] > cum_rows[row_idx]).sum(axis=1)


def _argsort_keys(*keys) -> np.ndarray:
    """Stable argsort by several integer keys (first = most significant).

    Keys are packed into one int64 when they fit (much faster than np.lexsort on
    CPUs without SIMD sort); ties keep input order, so the result is the same on
    every platform."""
    keys = [np.asarray(k, dtype=np.int64) for k in keys]
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    bits_used = 0
    for k in keys:
        lo = int(k.min())
        width = max(1, int(k.max()) - lo).bit_length()
        if bits_used + width > 62:
            return np.lexsort(tuple(reversed(keys)))
        packed = (packed << width) | (k - lo)
        bits_used += width
    return np.argsort(packed, kind="stable")


def _df(**cols) -> pd.DataFrame:
    return pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, copy=False)


def _sql_list(items) -> str:
    out = []
    for x in items:
        if isinstance(x, str):
            out.append("'" + x.replace("'", "''") + "'")
        else:
            out.append(str(int(x)))
    return "[" + ", ".join(out) + "]"


def _zpad(prefix: str, expr: str, width: int) -> str:
    """SQL for prefix + zero padded integer (faster than printf in DuckDB)."""
    lim = 10**width
    return (f"'{prefix}' || CASE WHEN ({expr}) < {lim} THEN substring((({expr}) + {lim})::VARCHAR, 2) "
            f"ELSE ({expr})::VARCHAR END")


def _csv_quote(s: str) -> str:
    """RFC 4180 quoting of a Python string (only when needed)."""
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\r\n') else s


def _csv_line(cols) -> str:
    """SQL for one RFC 4180 CSV record from (expression, may_need_quotes) pairs; NULL -> empty."""
    parts = [f"csvq({e})" if q else f"coalesce(({e})::VARCHAR, '')" for e, q in cols]
    return " || ',' || ".join(parts)


# --------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------
class _Gen:
    def __init__(self, out_dir, customers, days, seed, end_date, extract_every_days, bad_row_rate,
                 full_dump_until):
        if customers < 1:
            raise ValueError("customers must be >= 1")
        if customers > 9_000_000:
            raise ValueError("customers must be <= 9,000,000")
        if days < 1:
            raise ValueError("days must be >= 1")
        if extract_every_days < 1:
            raise ValueError("extract_every_days must be >= 1")
        if not 0.0 <= bad_row_rate <= 0.5:
            raise ValueError("bad_row_rate must be within [0, 0.5]")
        self.out = Path(out_dir)
        self.N = int(customers)
        self.D = int(days)
        self.K = int(extract_every_days)
        self.rate = float(bad_row_rate)
        self.E_day = _epoch_day(end_date)
        self.S_day = self.E_day - self.D + 1
        self.S = self.S_day * DAY
        self.END = (self.E_day + 1) * DAY - 1
        self.D0 = None
        if full_dump_until is not None:
            self.D0 = _epoch_day(full_dump_until)
            if self.D0 > self.E_day:
                raise ValueError("full_dump_until must not be after end_date")
        self.scale = self.D / 1095.0
        root = np.random.default_rng(seed)
        names = ["customers", "products", "orders", "lines", "cust_versions", "tickets", "responses", "bad"]
        self._rngs = dict(zip(names, root.spawn(len(names))))
        # extract dates: end_date, end_date - K, ... down to the one covering the first day
        q = (self.E_day - self.S_day) // self.K
        dates = [self.E_day - j * self.K for j in range(q + 1)]
        if self.D0 is not None:
            dates = [d for d in dates if d > self.D0] + [self.D0]
        self.extract_days = sorted(set(dates))
        self.counts: dict = {}
        self.t0 = time.time()

    # -- time helpers ------------------------------------------------------
    def rng(self, name):
        return self._rngs[name]

    def xd(self, t: np.ndarray) -> np.ndarray:
        """Extract date (epoch day) for version timestamps ``t`` (epoch seconds, UTC)."""
        d = np.asarray(t, dtype=np.int64) // DAY
        x = self.E_day - ((self.E_day - d) // self.K) * self.K
        if self.D0 is not None:
            x = np.where(d <= self.D0, self.D0, x)
        return x.astype(np.int32)

    def sod(self, rng, n) -> np.ndarray:
        """UTC second-of-day following local (UTC+8) shopping hours."""
        local_h = _cat_choice(rng, LOCAL_HOUR_W, n).astype(np.int64)
        return ((local_h - 8) % 24) * 3600 + rng.integers(0, 3600, n)

    def at_time_of_day(self, rng, t, lo, hi) -> np.ndarray:
        """Keep the day of ``t`` but draw a realistic time of day; clip to [lo, hi]."""
        t = np.asarray(t, dtype=np.int64)
        out = (t // DAY) * DAY + self.sod(rng, len(t))
        return np.minimum(np.maximum(out, lo), hi)

    def tzv(self, rng, n, system) -> np.ndarray:
        return _cat_choice(rng, TS_P[system], n)

    def progress(self, msg):
        _log(f"{msg} ({time.time() - self.t0:.1f}s)")

    # -- bad rows ----------------------------------------------------------
    def pick_bad(self, entity, n):
        """Return (bad_code int8[n], badv int16[n]): which rows are bad and a variant chooser."""
        rng = self.rng("bad")
        kinds = np.asarray(BAD_KINDS[entity], dtype=np.int8)
        code = np.zeros(n, dtype=np.int8)
        badv = np.zeros(n, dtype=np.int16)
        if n == 0 or self.rate <= 0:
            return code, badv
        pos = np.flatnonzero(rng.random(n) < self.rate)
        nb = len(pos)
        if nb:
            start = int(rng.integers(len(kinds)))
            code[pos[rng.permutation(nb)]] = kinds[(start + np.arange(nb)) % len(kinds)]
            badv[pos] = rng.integers(0, 30000, nb)
        return code, badv

    def bad_counts(self, entity, code):
        c = np.bincount(code, minlength=len(BAD_KIND_NAMES) + 1)
        return {BAD_KIND_NAMES[k - 1]: int(c[k]) for k in BAD_KINDS[entity]}

    # ======================================================================
    # stage 1: customers (base attributes and activity profile)
    # ======================================================================
    def customers_base(self):
        rng = self.rng("customers")
        N, D = self.N, self.D
        legacy = rng.random(N) < 0.35
        pre_days = rng.integers(30, 5 * 365, N)
        new_day = self.S_day + np.minimum((D * rng.power(1.4, N)).astype(np.int64), D - 1)
        sod = self.sod(rng, N)
        created = np.where(legacy, (self.S_day - pre_days) * DAY + sod, new_day * DAY + sod)
        created = np.minimum(created, self.END - 60)
        # legacy customers were loaded into this ERP during the first week
        v0 = np.where(legacy, self.S + rng.integers(0, min(7, D) * DAY, N), created)
        v0 = np.minimum(v0, self.END - 60)
        seg = _cat_choice(rng, [0.15, 0.22, 0.38, 0.25], N)  # prospect, one-time, occasional, loyal
        start = v0.copy()
        churn = (seg >= 2) & (rng.random(N) < 0.30)
        churn_t = start + ((0.15 + 0.7 * rng.random(N)) * (self.END - start)).astype(np.int64)
        end = np.where(churn, churn_t, self.END)

        culture = _cat_choice(rng, CULTURE_P, N)
        fcount = np.array([len(FIRST_NAMES[c]) for c in CULTURES])
        lcount = np.array([len(LAST_NAMES[c]) for c in CULTURES])
        fn = _offsets(fcount)[culture] + (rng.random(N) * fcount[culture]).astype(np.int64)
        ln = _offsets(lcount)[culture] + (rng.random(N) * lcount[culture]).astype(np.int64)
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
        fcc = 1 + _rowwise_choice(rng, fcum, culture)
        cc_idx = np.where(foreign, fcc, 0)
        cn_pref = np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), N)]
        us_area = np.asarray([212, 415, 646, 310, 617, 206])[rng.integers(0, 6, N)]
        idx = np.arange(N, dtype=np.int64)
        nat1 = self._national(cc_idx, cn_pref, us_area, _bij(idx))
        nat2 = self._national(cc_idx, np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), N)],
                              us_area, _bij(idx + N))
        region = _cat_choice(rng, [0.22, 0.20, 0.24, 0.18, 0.16], N)
        acq = _cat_choice(rng, [0.38, 0.25, 0.14, 0.10, 0.13], N)
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

        self.c = dict(
            created=created, v0=v0, legacy=legacy, seg=seg, start=start, end=end, churn=churn,
            has_email=has_email, has_phone=has_phone, gold0=gold0, email_change=email_change,
            phone_change=phone_change, pref_cat=pref_cat, pref_channel=pref_channel, sat=sat,
        )
        self.cnum = _df(
            idx=idx, culture=culture, fn=fn, ln=ln, name_style=name_style, email_form=email_form,
            email_nn=email_nn, dom1=dom1, has_email=has_email, em2_form=em2_form, dom2=dom2,
            email_change=email_change, shared_g=shared_g,
            shared_box=np.where(shared, shared_g % len(SHARED_BOXES), 0),
            combo=np.where(shared, combo[np.maximum(shared_g, 0)], 0),
            has_phone=has_phone, cc=np.asarray(CCS)[cc_idx], nat1=nat1, nat2=nat2,
            region=region, acq=acq, rep=rep,
        )
        self.progress(f"customers: {N:,} base profiles ({int(shared.sum())} on {G} shared mailboxes)")

    @staticmethod
    def _national(cc_idx, cn_pref, us_area, b):
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

    # ======================================================================
    # stage 2: products
    # ======================================================================
    def products(self):
        rng = self.rng("products")
        nc = len(CATEGORIES)
        P = int(np.clip(round(30 * (self.N / 300) ** 0.28), 30, 400))
        per_cat = np.full(nc, P // nc) + (np.arange(nc) < P % nc)
        cat = np.repeat(np.arange(nc), per_cat)
        j = np.arange(P) - _offsets(per_cat)[cat]
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
        core[_offsets(per_cat)] = True
        late = ~core & (rng.random(P) < 0.2)
        launch_day = np.where(late, self.S_day + (self.D * (0.1 + 0.8 * rng.random(P))).astype(np.int64),
                              self.S_day)
        launch = launch_day * DAY + rng.integers(2 * 3600, 4 * 3600, P)  # nightly catalogue job
        launch = np.minimum(launch, self.END - 60)
        INF = np.iinfo(np.int64).max
        span = self.END - launch
        ch1 = rng.random(P) < 0.35
        ch2 = ch1 & (rng.random(P) < 0.30)
        c1 = launch + (span * (0.1 + 0.5 * rng.random(P))).astype(np.int64)
        c2 = c1 + ((self.END - c1) * (0.2 + 0.7 * rng.random(P))).astype(np.int64)
        c1 = np.where(ch1 & (c1 > launch) & (c1 <= self.END), c1, INF)
        c2 = np.where(ch2 & (c1 < INF) & (c2 > c1) & (c2 <= self.END), c2, INF)
        up = lambda p, f: np.maximum(99, (np.round(p * f / 10) * 10 - 1)).astype(np.int64)  # noqa: E731
        price1 = up(price0, 1.02 + 0.10 * rng.random(P))
        price2 = up(price1, 1.02 + 0.08 * rng.random(P))
        cost1 = np.round(cost0 * (1.0 + 0.08 * rng.random(P))).astype(np.int64)
        cost2 = np.round(cost1 * (1.0 + 0.06 * rng.random(P))).astype(np.int64)
        prices = np.stack([price0, price1, price2])
        costs = np.stack([cost0, cost1, cost2])
        self.p = dict(P=P, per_cat=per_cat, cat_off=_offsets(per_cat), launch=launch, c1=c1, c2=c2,
                      prices=prices, costs=costs)
        # versions (a price change is a new version of the product row)
        m1, m2 = np.flatnonzero(c1 < INF), np.flatnonzero(c2 < INF)
        pid = np.concatenate([np.arange(P), m1, m2])
        ver = np.concatenate([np.zeros(P, np.int64), np.ones(len(m1), np.int64), np.full(len(m2), 2)])
        t = np.concatenate([launch, c1[m1], c2[m2]])
        xd = self.xd(t)
        o = _argsort_keys(pid, ver)
        pid, ver, t, xd = pid[o], ver[o], t[o], xd[o]
        keep = np.r_[(pid[1:] != pid[:-1]) | (xd[1:] != xd[:-1]), True]
        pid, ver, t, xd = pid[keep], ver[keep], t[keep], xd[keep]
        o = _argsort_keys(xd, pid)
        pid, ver, t, xd = pid[o], ver[o], t[o], xd[o]
        n = len(pid)
        bad, badv = self.pick_bad("products", n)
        self.pmeta = _df(p=np.arange(P), name=name.astype(str), cat=cat)
        self.pnum = _df(seq=np.arange(n), xd=xd, p=pid, t=t, price=prices[ver, pid], cost=costs[ver, pid],
                        tzv=self.tzv(rng, n, "erp"), bad=bad, badv=badv)
        self.counts["products"] = {"rows": n, "bad": self.bad_counts("products", bad)}
        self.progress(f"products: {P} products, {n} rows")

    # ======================================================================
    # stage 3: orders and order lines
    # ======================================================================
    def orders(self):
        rng = self.rng("orders")
        c, N = self.c, self.N
        seg, start, end = c["seg"], c["start"], c["end"]
        span_y = np.maximum(end - start, 0) / (365.25 * DAY)
        rate = np.where(seg == 2, rng.gamma(2.0, 1.0, N), rng.gamma(3.0, 2.7, N))  # orders / year
        n_ord = np.where(seg == 0, 0, np.where(seg == 1, 1, rng.poisson(rate * span_y)))
        n_ord = np.where((seg >= 2) & (n_ord == 0) & (rng.random(N) < 0.5), 1, n_ord).astype(np.int64)
        cust = np.repeat(np.arange(N), n_ord)
        M = len(cust)
        t = start[cust] + (rng.random(M) * (end[cust] - start[cust])).astype(np.int64)
        t = self.at_time_of_day(rng, t, start[cust], self.END)
        cust_off = _offsets(n_ord)
        # new customers often buy right away
        first_idx = cust_off[n_ord > 0]
        quick = ~c["legacy"][cust[first_idx]] & (rng.random(len(first_idx)) < 0.6)
        qi = first_idx[quick]
        t[qi] = np.minimum(c["created"][cust[qi]] + rng.integers(300, 2 * DAY, len(qi)), self.END - 60)
        o = _argsort_keys(cust, t)  # customer-grouped, chronological
        cust, t = cust[o], t[o]
        to = _argsort_keys(t, cust)  # global chronological order
        ono = np.empty(M, dtype=np.int64)
        ono[to] = np.arange(1, M + 1)

        # late-arriving master data: the customer's first export lags its first order
        buyers = np.flatnonzero(n_ord > 0)
        first_t = t[cust_off[buyers]]
        lag = (self.K + rng.integers(1, 40, len(buyers))) * DAY + rng.integers(0, DAY, len(buyers))
        cand = np.flatnonzero(~c["legacy"][buyers] & (first_t + lag <= self.END))
        n_late = min(len(cand), max(2, int(round(0.03 * len(cand)))))
        if n_late:
            pick = np.sort(rng.choice(cand, n_late, replace=False))
            c["v0"][buyers[pick]] = first_t[pick] + lag[pick]

        # status history: completed -> cancelled/returned, cancelled -> completed
        v0_t = np.minimum(t + 60 + rng.exponential(45 * 60, M).astype(np.int64), self.END)
        st0 = np.where(rng.random(M) < 0.06, 1, 0).astype(np.int8)
        u = rng.random(M)
        ev_st = np.full(M, -1, dtype=np.int8)
        ev_t = np.zeros(M, dtype=np.int64)
        ret = (st0 == 0) & (u < 0.05)
        can = (st0 == 0) & (u >= 0.05) & (u < 0.075)
        rec = (st0 == 1) & (u < 0.15)
        ev_st[ret], ev_t[ret] = 2, t[ret] + (rng.uniform(2, 30, ret.sum()) * DAY).astype(np.int64)
        ev_st[can], ev_t[can] = 1, t[can] + (rng.uniform(0.05, 3, can.sum()) * DAY).astype(np.int64)
        ev_st[rec], ev_t[rec] = 0, t[rec] + (rng.uniform(0.5, 5, rec.sum()) * DAY).astype(np.int64)
        has_ev = (ev_st >= 0) & (ev_t <= self.END) & (ev_t > v0_t)
        final_st = np.where(has_ev, ev_st, st0)
        xd0 = self.xd(v0_t)
        xd1 = self.xd(ev_t)
        keep0 = ~has_ev | (xd1 != xd0)  # an extract only carries the latest state
        channel = np.where(rng.random(M) < 0.75, c["pref_channel"][cust], rng.integers(0, 4, M)).astype(np.int8)
        i0 = to[keep0[to]]
        i1 = to[has_ev[to]]
        oi = np.concatenate([i0, i1])
        o_t = np.concatenate([v0_t[i0], ev_t[i1]])
        o_st = np.concatenate([st0[i0], ev_st[i1]])
        o_xd = np.concatenate([xd0[i0], xd1[i1]])
        srt = _argsort_keys(o_xd, ono[oi], np.r_[np.zeros(len(i0)), np.ones(len(i1))])
        oi, o_t, o_st, o_xd = oi[srt], o_t[srt], o_st[srt], o_xd[srt]
        n = len(oi)
        bad, badv = self.pick_bad("orders", n)
        self.onum = _df(seq=np.arange(n), xd=o_xd, ono=ono[oi], cust=cust[oi], ordered=t[oi], updated=o_t,
                        channel=channel[oi], status=o_st, tzv=self.tzv(rng, n, "erp"), bad=bad, badv=badv)
        self.counts["orders"] = {"rows": n, "bad": self.bad_counts("orders", bad)}
        self.progress(f"orders: {M:,} orders, {n:,} rows ({len(i1):,} status changes, {n_late} late customers)")

        # ---- lines: generated directly in output order (first extract of the order, order id) ----
        rng = self.rng("lines")
        p = self.p
        n_lines = (_cat_choice(rng, [0.26, 0.25, 0.2, 0.13, 0.09, 0.07], M) + 1).astype(np.int64)
        op = to[_argsort_keys(xd0[to], ono[to])]
        cnt = n_lines[op]
        L = int(cnt.sum())
        lo = np.repeat(op, cnt)
        line_no = (np.arange(L) - np.repeat(_offsets(cnt), cnt) + 1).astype(np.int16)
        lc = cust[lo]
        lt = t[lo]
        slot = _cat_choice(rng, [0.5, 0.3, 0.2], L)
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
        bad, badv = self.pick_bad("order_lines", L)
        # net revenue of completed orders, for the survey's share of wallet
        rev = np.bincount(lo, weights=price * qty - disc, minlength=M).astype(np.int64)
        rev = np.where(final_st == 0, rev, 0)
        self.lnum = _df(seq=np.arange(L), xd=xd0[lo], ono=ono[lo], ln=line_no, p=prod.astype(np.int16),
                        q=qty, price=price, disc=disc, cost=cost, bad=bad, badv=badv)
        self.counts["order_lines"] = {"rows": L, "bad": self.bad_counts("order_lines", bad)}
        self.o = dict(M=M, cust=cust, t=t, n_ord=n_ord, cust_off=cust_off, cum_rev=np.r_[0, np.cumsum(rev)])
        self.progress(f"order_lines: {L:,} rows")

    # ======================================================================
    # stage 4: customer versions
    # ======================================================================
    def customer_versions(self):
        rng = self.rng("cust_versions")
        c, N = self.c, self.N
        v0 = c["v0"]
        INF = np.iinfo(np.int64).max
        room = self.END - v0

        def ev(mask, lo_frac):
            tt = v0 + ((lo_frac + (1 - lo_frac) * rng.random(N)) * room).astype(np.int64)
            tt = self.at_time_of_day(rng, tt, v0 + 3600, self.END)
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
        o = _argsort_keys(cid, t)
        cid, t = cid[o], t[o]
        same = np.r_[False, cid[1:] == cid[:-1]]
        prev = np.r_[0, t[:-1]]
        t = np.where(same & (t <= prev), prev + 1, t)  # strictly increasing per customer
        xd = self.xd(t)
        keep = np.r_[(cid[1:] != cid[:-1]) | (xd[1:] != xd[:-1]), True]
        cid, t, xd = cid[keep], t[keep], xd[keep]
        o = _argsort_keys(xd, cid, t)
        cid, t, xd = cid[o], t[o], xd[o]
        n = len(cid)
        gold = c["gold0"][cid] | (up_t[cid] <= t)
        bad, badv = self.pick_bad("customers", n)
        self.cvnum = _df(seq=np.arange(n), xd=xd, idx=cid, created=c["created"][cid], updated=t, gold=gold,
                         em2=em_t[cid] <= t, ph2=ph_t[cid] <= t, tzv=self.tzv(rng, n, "erp"), bad=bad,
                         badv=badv)
        c["em_t"], c["ph_t"] = em_t, ph_t
        self.counts["customers"] = {"rows": n, "bad": self.bad_counts("customers", bad)}
        self.progress(f"customers: {n:,} rows ({int((up_t < INF).sum()):,} upgrades, "
                      f"{int((em_t < INF).sum())} email / {int((ph_t < INF).sum())} phone changes)")

    # ======================================================================
    # identity helpers shared by tickets and responses
    # ======================================================================
    def pick_people(self, rng, n, known_share, anchor_share, after_days):
        """Who a ticket/response comes from (customer index or -1) and when."""
        c, o, N = self.c, self.o, self.N
        known = rng.random(n) < known_share
        w = 1.0 + np.minimum(o["n_ord"], 50)
        cum = np.cumsum(w / w.sum())
        pick = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), N - 1)
        cust = np.where(known, pick, -1)
        kc = np.maximum(cust, 0)
        lo = np.where(known, np.maximum(c["start"][kc], self.S), self.S)
        hi = self.END - 7200
        t = lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64)
        t = self.at_time_of_day(rng, t, lo, hi)
        nord = o["n_ord"][kc]
        anchored = known & (nord > 0) & (rng.random(n) < anchor_share)
        oi = o["cust_off"][kc] + (rng.random(n) * np.maximum(nord, 1)).astype(np.int64)
        oi = np.minimum(oi, max(o["M"] - 1, 0))
        if o["M"]:
            at = o["t"][oi] + (rng.exponential(after_days, n) * DAY).astype(np.int64) + 600
            t = np.where(anchored, np.minimum(at, hi), t)
        return cust, t

    def contact_modes(self, rng, cust, t, p_email, p_phone, p_unknown_email):
        """email_mode: 0 none, 1 ERP email, 2 ERP email after change, 3 address unknown to the ERP.
        phone_mode: 0 none, 1 ERP phone, 2 ERP phone after change, 3 number unknown to the ERP."""
        c = self.c
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

    def person_cols(self, rng, n, offset):
        """Name / address / number of people the ERP does not know, and format variants."""
        culture = _cat_choice(rng, CULTURE_P, n)
        fcount = np.array([len(FIRST_NAMES[c]) for c in CULTURES])
        lcount = np.array([len(LAST_NAMES[c]) for c in CULTURES])
        fn = _offsets(fcount)[culture] + (rng.random(n) * fcount[culture]).astype(np.int64)
        ln = _offsets(lcount)[culture] + (rng.random(n) * lcount[culture]).astype(np.int64)
        pref = np.asarray(CN_MOBILE_PREFIX)[rng.integers(0, len(CN_MOBILE_PREFIX), n)]
        return dict(
            u_culture=culture, u_fn=fn, u_ln=ln, u_style=rng.integers(0, 100, n).astype(np.int8),
            u_dom=rng.integers(0, len(DOMAINS), n), u_d4=rng.integers(1000, 10000, n),
            u_nat=pref * 10**8 + _bij(np.arange(n, dtype=np.int64) + offset),
            email_v=_cat_choice(rng, EMAIL_VARIANT_P, n), phone_v=_cat_choice(rng, PHONE_VARIANT_P, n),
        )

    def customer_id_mode(self, rng, cust, p_real, p_fake):
        """0 empty, 1 the right customer_id, 2 a customer_id that does not exist."""
        n = len(cust)
        u = rng.random(n)
        mode = np.where(u < p_fake, 2, np.where((cust >= 0) & (u < p_fake + p_real), 1, 0)).astype(np.int8)
        fake = self.N + 1 + rng.integers(0, max(1000, self.N // 10), n)
        return mode, fake

    # ======================================================================
    # stage 5: tickets
    # ======================================================================
    def tickets(self):
        rng = self.rng("tickets")
        T = int(rng.poisson(self.N * self.scale * 1.0))
        cust, created = self.pick_people(rng, T, 0.88, 0.6, 2.0)
        o = _argsort_keys(created, cust)
        cust, created = cust[o], created[o]
        channel = _cat_choice(rng, [0.45, 0.2, 0.2, 0.15], T)
        ttype = _cat_choice(rng, [0.25, 0.3, 0.1, 0.15, 0.2], T)
        prio = _cat_choice(rng, [0.2, 0.55, 0.18, 0.07], T)
        cid_mode, fake = self.customer_id_mode(rng, cust, 0.45, 0.015)
        p_phone = np.where(channel == 1, 0.95, 0.3)
        em, pm = self.contact_modes(rng, cust, created, 0.86, p_phone, 0.09)
        none = rng.random(T) < 0.03  # requesters with neither email nor phone
        em[none] = 0
        pm[none] = 0
        # 0 ERP name, 1 latin name, 2 first name, 3 none, 4 someone unknown to the ERP
        name_mode = np.where(cust < 0, np.where(rng.random(T) < 0.85, 4, 3),
                             _cat_choice(rng, [0.72, 0.12, 0.10, 0.06], T)).astype(np.int8)
        ntags = _cat_choice(rng, [0.2, 0.4, 0.3, 0.1], T)
        tcount = np.array([len(x) for x in TYPE_TAGS])
        toff = _offsets(tcount) + 1  # 1-based SQL list index
        k1 = (rng.random(T) * tcount[ttype]).astype(np.int64)
        k2 = (k1 + 1 + (rng.random(T) * (tcount[ttype] - 1)).astype(np.int64)) % tcount[ttype]
        t1 = np.where(ntags >= 1, toff[ttype] + k1, 0)
        t2 = np.where(ntags >= 2, toff[ttype] + k2, 0)
        t3 = np.where(ntags >= 3, tcount.sum() + 1 + rng.integers(0, len(GENERAL_TAGS), T), 0)
        sat = np.where(rng.random(T) < 0.33, -1, np.where(rng.random(T) < 0.82, 0, 1)).astype(np.int8)
        people = self.person_cols(rng, T, 3 * self.N)
        self.tt = _df(ti=np.arange(T), tid=100001 + np.arange(T), tid_str=rng.random(T) < 0.05, cust=cust,
                      cid_mode=cid_mode, fake=fake, name_mode=name_mode, email_mode=em, phone_mode=pm,
                      created=created, channel=channel, type=ttype, prio=prio, sat=sat, t1=t1, t2=t2, t3=t3,
                      tzv=self.tzv(rng, T, "desk"), **people)

        # lifecycle: new/open -> (open/pending) -> solved -> closed
        fr_mean = np.asarray([20, 8, 3, 1], dtype=float)[prio] * 3600
        fr = created + 60 + rng.exponential(fr_mean).astype(np.int64)
        solved = fr + 600 + rng.exponential(2 * DAY, T).astype(np.int64)
        closed = solved + 4 * DAY + rng.integers(0, DAY // 2, T)
        never = rng.random(T) < 0.04
        st0 = np.where(rng.random(T) < 0.7, 0, 1)
        has_v1 = rng.random(T) < 0.6
        v1_st = np.where(st0 == 0, 1, 2)
        END = self.END
        NA = np.full(T, -1, dtype=np.int64)
        ok = np.stack([np.ones(T, bool), has_v1 & (fr <= END), ~never & (solved <= END),
                       ~never & (closed <= END)], axis=1)
        ut = np.stack([created, fr, solved, closed], axis=1)
        st = np.stack([st0, v1_st, np.full(T, 3), np.full(T, 4)], axis=1)
        frv = np.stack([NA, fr, fr, fr], axis=1)
        sv = np.stack([NA, NA, solved, solved], axis=1)
        satv = np.stack([np.zeros(T, bool), np.zeros(T, bool), np.zeros(T, bool), np.ones(T, bool)], axis=1)
        flat = np.flatnonzero(ok.ravel())  # sorted by (ticket, version) and so by updated_at
        ti = flat // 4
        ut, st, frv, sv, satv = (a.ravel()[flat] for a in (ut, st, frv, sv, satv))
        xd = self.xd(ut)
        keep = np.r_[(ti[1:] != ti[:-1]) | (xd[1:] != xd[:-1]), True]
        ti, ut, st, frv, sv, satv, xd = (a[keep] for a in (ti, ut, st, frv, sv, satv, xd))
        o = _argsort_keys(xd, ti)
        ti, ut, st, frv, sv, satv, xd = (a[o] for a in (ti, ut, st, frv, sv, satv, xd))
        n = len(ti)
        bad, badv = self.pick_bad("tickets", n)
        self.tv = _df(seq=np.arange(n), xd=xd, ti=ti, updated=ut, fr=frv, solved=sv, status=st.astype(np.int8),
                      show_sat=satv, bad=bad, badv=badv)
        self.counts["tickets"] = {"rows": n, "bad": self.bad_counts("tickets", bad)}
        self.progress(f"tickets: {T:,} tickets, {n:,} rows")

    # ======================================================================
    # stage 6: survey responses
    # ======================================================================
    def responses(self):
        rng = self.rng("responses")
        c, o = self.c, self.o
        R = int(rng.poisson(self.N * self.scale * 0.3))
        cust, sub = self.pick_people(rng, R, 0.78, 0.7, 5.0)
        srt = _argsort_keys(sub, cust)
        cust, sub = cust[srt], sub[srt]
        kc = np.maximum(cust, 0)
        known = cust >= 0
        cid_mode, fake = self.customer_id_mode(rng, cust, 0.35, 0.01)
        em, pm = self.contact_modes(rng, cust, sub, 0.90, np.full(R, 0.32), 0.08)
        z = np.where(known, c["sat"][kc], rng.normal(-0.2, 1, R))
        nps = np.clip(np.round(7.2 + 2.3 * z + rng.normal(0, 0.8, R)), 0, 10).astype(np.int16)
        csat = np.clip(np.round(3.8 + 0.9 * z + rng.normal(0, 0.5, R)), 1, 5).astype(np.int16)
        dims = np.clip(np.round(3.7 + 0.8 * z[:, None] + rng.normal(0, 0.7, (R, 5))), 1, 5).astype(np.int16)
        dims[rng.random((R, 5)) < 0.06] = -1
        # what the customer spent with us in the 12 months before answering (completed orders)
        key = o["cust"].astype(np.int64) * (1 << 34) + (o["t"] - self.S + (1 << 33))
        qk_hi = kc.astype(np.int64) * (1 << 34) + (sub - self.S + (1 << 33))
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
        lang = _cat_choice(rng, COMMENT_LANG_P, R)
        cpl = np.array([[len(COMMENTS[s][lg]) for lg in range(len(COMMENT_LANGS))] for s in range(3)])
        coff = _offsets(cpl.ravel()).reshape(cpl.shape)
        com = np.where(has_comment, coff[sent, lang] + (rng.random(R) * cpl[sent, lang]).astype(np.int64), -1)
        xd = self.xd(sub)
        bad, badv = self.pick_bad("responses", R)
        dup = bad == DUP
        bad[dup] = 0
        people = self.person_cols(rng, R, 3 * self.N + 2 * len(self.tt) + 10)
        tzv = self.tzv(rng, R, "survey")
        # duplicates: exact repeats written right after the original
        base = np.concatenate([np.arange(R), np.flatnonzero(dup)])
        is_dup = np.r_[np.zeros(R, np.int64), np.ones(int(dup.sum()), np.int64)]
        o2 = _argsort_keys(xd[base], base, is_dup)
        base = base[o2]
        n = len(base)
        cols = dict(seq=np.arange(n), xd=xd[base], rid=1 + base, sub=sub[base], cust=cust[base],
                    cid_mode=cid_mode[base], fake=fake[base], email_mode=em[base], phone_mode=pm[base],
                    nps=nps[base], csat=csat[base], spend=spend[base], com=com[base], tzv=tzv[base],
                    bad=bad[base], badv=badv[base])
        for k, nm in enumerate(["rel", "ass", "tan", "emp", "res"]):
            cols[nm] = dims[base, k]
        cols.update({k: v[base] for k, v in people.items()})
        self.rnum = _df(**cols)
        counts = self.bad_counts("responses", bad)
        counts["duplicate"] = int(dup.sum())
        self.counts["responses"] = {"rows": n, "bad": counts}
        self.progress(f"responses: {R:,} responses, {n:,} rows")

    # ======================================================================
    # formatting (DuckDB)
    # ======================================================================
    def _setup_sql(self, con):
        fn_rows, ln_rows = [], []
        for ci, cu in enumerate(CULTURES):
            fn_rows += [(ci,) + x for x in FIRST_NAMES[cu]]
            ln_rows += [(ci,) + x for x in LAST_NAMES[cu]]
        for tbl, rows in (("fnames", fn_rows), ("lnames", ln_rows)):
            con.register(f"{tbl}_df", pd.DataFrame({
                "id": np.arange(len(rows)), "culture": [r[0] for r in rows], "disp": [r[1] for r in rows],
                "latin": [r[2] for r in rows], "slug": [r[3] for r in rows]}))
            con.execute(f"CREATE TABLE {tbl} AS SELECT * FROM {tbl}_df")
            con.unregister(f"{tbl}_df")
        flat = [COMMENTS[s][lg][k] for s in range(3) for lg in range(len(COMMENT_LANGS))
                for k in range(len(COMMENTS[s][lg]))]
        con.register("comments_df", pd.DataFrame({"id": np.arange(len(flat)), "text": flat}))
        con.execute("CREATE TABLE comments AS SELECT * FROM comments_df")
        con.unregister("comments_df")
        tags = [x for grp in TYPE_TAGS for x in grp] + GENERAL_TAGS
        macros = f"""
        CREATE MACRO money(c) AS (c::DECIMAL(18, 0) / 100)::DECIMAL(18, 2)::VARCHAR;
        CREATE MACRO ts_local(ts, v) AS make_timestamp(((ts + {_sql_list(TS_OFFSETS)}[v + 1]) * 1000000)::BIGINT);
        CREATE MACRO fmt_ts(ts, v) AS CASE WHEN ts < 0 THEN NULL
            WHEN v = 7 THEN strftime(ts_local(ts, v), '%Y-%m-%d %H:%M:%S')
            ELSE strftime(ts_local(ts, v), '%Y-%m-%dT%H:%M:%S') || {_sql_list(TS_SUFFIX)}[v + 1] END;
        CREATE MACRO bad_ts(v) AS {_sql_list(BAD_TIMESTAMPS)}[v % {len(BAD_TIMESTAMPS)} + 1];
        CREATE MACRO bad_num_csv(v) AS {_sql_list(_csv_quote(x) for x in BAD_NUMBERS)}[v % {len(BAD_NUMBERS)} + 1];
        CREATE MACRO email_local(form, fs, ls, nn) AS CASE form
            WHEN 0 THEN fs || '.' || ls WHEN 1 THEN fs[1] || ls WHEN 2 THEN fs || '_' || ls
            WHEN 3 THEN ls || '.' || fs ELSE fs || ls || nn::VARCHAR END;
        CREATE MACRO person_name(culture, style, fd, ld, fl, ll) AS CASE
            WHEN culture = 0 AND style < 60 THEN ld || fd
            WHEN culture = 4 AND style < 50 THEN ld || ' ' || fd
            WHEN culture IN (0, 4) THEN fl || ' ' || ll
            WHEN style < 10 THEN ld || ', ' || fd
            ELSE fd || ' ' || ld END;
        CREATE MACRO fmt_email(e, v) AS CASE v
            WHEN 0 THEN e
            WHEN 1 THEN upper(e)
            WHEN 2 THEN upper(e[1]) || split_part(e, '@', 1)[2:] || '@'
                        || upper(split_part(e, '@', 2)[1]) || split_part(e, '@', 2)[2:]
            WHEN 3 THEN ' ' || e || ' '
            WHEN 4 THEN e || ' '
            WHEN 5 THEN ' ' || upper(e)
            ELSE upper(split_part(e, '@', 1)) || '@' || split_part(e, '@', 2) END;
        CREATE MACRO fmt_phone(cc, s, v) AS CASE
            WHEN cc = 86 THEN CASE v % 7
                WHEN 0 THEN s
                WHEN 1 THEN s[1:3] || ' ' || s[4:7] || ' ' || s[8:11]
                WHEN 2 THEN '+86 ' || s[1:3] || '-' || s[4:7] || '-' || s[8:11]
                WHEN 3 THEN '(+86) ' || s
                WHEN 4 THEN '+86' || s
                WHEN 5 THEN '+86 ' || s
                ELSE s[1:3] || '-' || s[4:7] || '-' || s[8:11] END
            WHEN cc = 1 THEN CASE v % 4
                WHEN 0 THEN '+1 ' || s[1:3] || ' ' || s[4:6] || ' ' || s[7:10]
                WHEN 1 THEN '(' || s[1:3] || ') ' || s[4:6] || '-' || s[7:10]
                WHEN 2 THEN '+1' || s
                ELSE '+1 ' || s[1:3] || '-' || s[4:6] || '-' || s[7:10] END
            WHEN cc = 44 THEN CASE v % 4
                WHEN 0 THEN '+44 ' || s[1:2] || ' ' || s[3:6] || ' ' || s[7:10]
                WHEN 1 THEN '0' || s[1:2] || ' ' || s[3:6] || ' ' || s[7:10]
                WHEN 2 THEN '+44' || s
                ELSE '+44 (0)' || s[1:2] || ' ' || s[3:6] || ' ' || s[7:10] END
            WHEN cc = 49 THEN CASE v % 4
                WHEN 0 THEN '+49 ' || s[1:2] || ' ' || s[3:10]
                WHEN 1 THEN '0' || s[1:2] || ' ' || s[3:10]
                WHEN 2 THEN '+49' || s
                ELSE '+49 (0)' || s[1:2] || ' ' || s[3:10] END
            WHEN cc = 81 THEN CASE v % 4
                WHEN 0 THEN '+81 ' || s[1:1] || '-' || s[2:5] || '-' || s[6:9]
                WHEN 1 THEN '0' || s[1:1] || '-' || s[2:5] || '-' || s[6:9]
                WHEN 2 THEN '+81' || s
                ELSE '+81 ' || s[1:1] || ' ' || s[2:5] || ' ' || s[6:9] END
            ELSE CASE v % 4
                WHEN 0 THEN '+852 ' || s[1:4] || ' ' || s[5:8]
                WHEN 1 THEN s[1:4] || ' ' || s[5:8]
                WHEN 2 THEN '+852' || s
                ELSE '(852) ' || s END
            END;
        CREATE MACRO csvq(s) AS CASE WHEN s IS NULL THEN ''
            WHEN contains(s, ',') OR contains(s, '"') OR contains(s, chr(10)) OR contains(s, chr(13))
            THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
        CREATE MACRO tag_name(i) AS CASE WHEN i > 0 THEN {_sql_list(tags)}[i] END;
        """
        for stmt in macros.split(";"):
            if stmt.strip():
                con.execute(stmt)

    def _build_cattr(self, con):
        """One row per customer with its formatted identity (unique emails except shared mailboxes)."""
        con.register("cnum_df", self.cnum)
        con.execute(f"""
        CREATE TABLE cattr AS
        WITH b AS (
            SELECT c.*, f.disp AS fd, f.latin AS fl, f.slug AS fs, l.disp AS ld, l.latin AS ll, l.slug AS ls
            FROM cnum_df c JOIN fnames f ON f.id = c.fn JOIN lnames l ON l.id = c.ln
        ), e AS (
            SELECT idx, 1 AS which, shared_g >= 0 AS is_shared,
                CASE WHEN shared_g >= 0
                     THEN {_sql_list(SHARED_BOXES)}[shared_box + 1] || '@'
                          || {_sql_list(COMPANY_A)}[combo // {len(COMPANY_B)} + 1] || '-'
                          || {_sql_list(COMPANY_B)}[combo % {len(COMPANY_B)} + 1] || '.com'
                     ELSE email_local(email_form, fs, ls, email_nn) || '@' || {_sql_list(DOMAINS)}[dom1 + 1]
                END AS email
            FROM b WHERE has_email
            UNION ALL
            SELECT idx, 2, false, email_local(em2_form, fs, ls, email_nn) || '@' || {_sql_list(DOMAINS)}[dom2 + 1]
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
        SELECT b.idx, {_zpad('C', 'b.idx + 1', 6)} AS customer_id,
            person_name(b.culture, b.name_style, fd, ld, fl, ll) AS name,
            fl || ' ' || ll AS latin_name, fl AS first_latin, fs AS slug_first, ls AS slug_last,
            d.email1, d.email2,
            CASE WHEN has_phone THEN cc END AS cc,
            CASE WHEN has_phone THEN nat1::VARCHAR END AS nat1,
            CASE WHEN has_phone THEN nat2::VARCHAR END AS nat2,
            {_sql_list(REGIONS)}[region + 1] AS region,
            {_sql_list(ACQ_CHANNELS)}[acq + 1] AS acq,
            CASE WHEN rep > 0 THEN {_zpad('R', 'rep', 3)} END AS rep
        FROM b LEFT JOIN d ON d.idx = b.idx
        """)
        con.unregister("cnum_df")
        self.cnum = None

    @staticmethod
    def _contact_sql(a):
        """SQL for the email / phone of a ticket requester or survey respondent (alias ``a``, cattr ``k``)."""
        email = f"""CASE {a}.email_mode
            WHEN 1 THEN fmt_email(k.email1, {a}.email_v)
            WHEN 2 THEN fmt_email(coalesce(k.email2, k.email1), {a}.email_v)
            WHEN 3 THEN fmt_email(coalesce(k.slug_first, uf.slug) || coalesce(k.slug_last, ul.slug)
                                  || {a}.u_d4::VARCHAR || '@'
                                  || {_sql_list(DOMAINS)}[{a}.u_dom + 1], {a}.email_v % 2)
            END"""
        phone = f"""CASE {a}.phone_mode
            WHEN 1 THEN fmt_phone(k.cc, k.nat1, {a}.phone_v)
            WHEN 2 THEN fmt_phone(k.cc, k.nat2, {a}.phone_v)
            WHEN 3 THEN fmt_phone(86, {a}.u_nat::VARCHAR, {a}.phone_v)
            END"""
        return email, phone

    @staticmethod
    def _cid_sql(a):
        return f"CASE {a}.cid_mode WHEN 1 THEN k.customer_id WHEN 2 THEN {_zpad('C', f'{a}.fake', 6)} END"

    def build_tables(self, con):
        """Render every output row once, as its final CSV / JSON text, into out_<entity>(xd, seq, line)."""
        self._setup_sql(con)
        self._build_cattr(con)
        self.progress("formatted customer identities")

        def ts_or_bad(ts_expr, tzv, bad, badv, parity=None):
            cond = f"{bad} = {BTS}" + ("" if parity is None else f" AND {badv} % 2 = {parity}")
            v = badv if parity is None else f"{badv} // 2"
            return f"CASE WHEN {cond} THEN bad_ts({v}) ELSE fmt_ts({ts_expr}, {tzv}) END"

        # customers
        con.register("cv_df", self.cvnum)
        line = _csv_line([
            (f"CASE WHEN v.bad = {MK} THEN NULL ELSE k.customer_id END", False),
            ("k.name", True),
            ("CASE WHEN v.em2 THEN coalesce(k.email2, k.email1) ELSE k.email1 END", False),  # no , " or newline
            ("'+' || k.cc::VARCHAR || CASE WHEN v.ph2 THEN k.nat2 ELSE k.nat1 END", False),
            ("CASE WHEN v.gold THEN 'gold' ELSE 'standard' END", False),
            ("k.region", False), ("k.acq", False), ("k.rep", False),
            (ts_or_bad("v.created", "v.tzv", "v.bad", "v.badv", 0), False),
            (ts_or_bad("v.updated", "v.tzv", "v.bad", "v.badv", 1), False),
        ])
        con.execute(f"""CREATE TABLE out_customers AS SELECT v.xd, v.seq, {line} AS line
                        FROM cv_df v JOIN cattr k ON k.idx = v.idx ORDER BY v.seq""")
        con.unregister("cv_df")
        self.cvnum = None
        self.progress("formatted customers")

        # products
        con.register("pmeta_df", self.pmeta)
        con.register("pnum_df", self.pnum)
        line = _csv_line([
            (_zpad("P", "v.p + 1", 4), False),
            ("m.name", True),
            (f"{_sql_list(CATEGORIES)}[m.cat + 1]", False),
            (f"CASE WHEN v.bad = {BNUM} AND v.badv % 2 = 1 THEN bad_num_csv(v.badv // 2) ELSE money(v.cost) END", False),
            (f"CASE WHEN v.bad = {BNUM} AND v.badv % 2 = 0 THEN bad_num_csv(v.badv // 2) ELSE money(v.price) END", False),
            (ts_or_bad("v.t", "v.tzv", "v.bad", "v.badv"), False),
        ])
        con.execute(f"""CREATE TABLE out_products AS SELECT v.xd, v.seq, {line} AS line
                        FROM pnum_df v JOIN pmeta_df m ON m.p = v.p ORDER BY v.seq""")
        con.unregister("pmeta_df")
        con.unregister("pnum_df")

        # orders
        con.register("onum_df", self.onum)
        line = _csv_line([
            (f"CASE WHEN bad = {MK} THEN NULL ELSE {_zpad('O', 'ono', 8)} END", False),
            (_zpad("C", "cust + 1", 6), False),
            (ts_or_bad("ordered", "tzv", "bad", "badv", 0), False),
            (f"{_sql_list(ORDER_CHANNELS)}[channel + 1]", False),
            (f"CASE WHEN bad = {UST} THEN {_sql_list(BAD_ORDER_STATUS)}[badv % {len(BAD_ORDER_STATUS)} + 1] "
             f"ELSE {_sql_list(ORDER_STATUS)}[status + 1] END", False),
            (ts_or_bad("updated", "tzv", "bad", "badv", 1), False),
        ])
        con.execute(f"CREATE TABLE out_orders AS SELECT xd, seq, {line} AS line FROM onum_df")
        con.unregister("onum_df")
        self.onum = None
        self.progress("formatted orders")

        # order lines
        con.register("lnum_df", self.lnum)
        line = _csv_line([
            (f"CASE WHEN bad = {MK} THEN NULL ELSE {_zpad('O', 'ono', 8)} END", False),
            ("ln", False),
            (_zpad("P", "p + 1", 4), False),
            (f"CASE WHEN bad = {BNUM} AND badv % 2 = 0 THEN bad_num_csv(badv // 2) "
             f"WHEN bad = {OOR} THEN (-q)::VARCHAR ELSE q::VARCHAR END", False),
            (f"CASE WHEN bad = {BNUM} AND badv % 2 = 1 THEN bad_num_csv(badv // 2) ELSE money(price) END", False),
            ("money(disc)", False),
            ("CASE WHEN cost < 0 THEN NULL ELSE money(cost) END", False),
        ])
        con.execute(f"CREATE TABLE out_order_lines AS SELECT xd, seq, {line} AS line FROM lnum_df")
        con.unregister("lnum_df")
        self.lnum = None
        self.progress("formatted order lines")

        # tickets: per-ticket attributes once, then one JSON line per exported version
        con.register("tt_df", self.tt)
        email, phone = self._contact_sql("t")
        con.execute(f"""
        CREATE TABLE tattr AS
        SELECT t.ti, t.tzv, t.sat, t.type,
            CASE WHEN t.tid_str THEN to_json('T-' || t.tid::VARCHAR) ELSE to_json(t.tid) END AS ticket_id,
            {self._cid_sql('t')} AS customer_id,
            {{'name': CASE t.name_mode WHEN 0 THEN k.name WHEN 1 THEN k.latin_name WHEN 2 THEN k.first_latin
                                       WHEN 4 THEN person_name(t.u_culture, t.u_style, uf.disp, ul.disp,
                                                               uf.latin, ul.latin) END,
              'email': {email},
              'phone': {phone}}} AS requester,
            fmt_ts(t.created, t.tzv) AS created_at,
            {_sql_list(T_CHANNELS)}[t.channel + 1] AS channel,
            {_sql_list(T_PRIORITIES)}[t.prio + 1] AS priority,
            list_filter([tag_name(t.t1), tag_name(t.t2), tag_name(t.t3)], lambda x: x IS NOT NULL) AS tags
        FROM tt_df t
        LEFT JOIN cattr k ON k.idx = t.cust
        JOIN fnames uf ON uf.id = t.u_fn JOIN lnames ul ON ul.id = t.u_ln
        """)
        con.unregister("tt_df")
        self.tt = None
        con.register("tv_df", self.tv)
        con.execute(f"""
        CREATE TABLE out_tickets AS
        SELECT v.xd, v.seq, to_json({{
            'ticket_id': CASE WHEN v.bad = {MK} THEN NULL::JSON ELSE a.ticket_id END,
            'customer_id': a.customer_id,
            'requester': a.requester,
            'created_at': CASE WHEN v.bad = {BTS} AND v.badv % 2 = 0 THEN bad_ts(v.badv // 2) ELSE a.created_at END,
            'updated_at': {ts_or_bad('v.updated', 'a.tzv', 'v.bad', 'v.badv', 1)},
            'first_response_at': fmt_ts(v.fr, a.tzv),
            'solved_at': fmt_ts(v.solved, a.tzv),
            'channel': a.channel,
            'type': CASE WHEN v.bad = {UTY} THEN {_sql_list(BAD_T_TYPES)}[v.badv % {len(BAD_T_TYPES)} + 1]
                         ELSE {_sql_list(T_TYPES)}[a.type + 1] END,
            'priority': a.priority,
            'status': CASE WHEN v.bad = {UST} THEN {_sql_list(BAD_T_STATUS)}[v.badv % {len(BAD_T_STATUS)} + 1]
                           ELSE {_sql_list(T_STATUS)}[v.status + 1] END,
            'satisfaction': CASE WHEN v.show_sat THEN (CASE a.sat WHEN 0 THEN 'good' WHEN 1 THEN 'bad' END) END,
            'tags': a.tags
        }})::VARCHAR AS line
        FROM tv_df v JOIN tattr a ON a.ti = v.ti
        ORDER BY v.seq
        """)
        con.unregister("tv_df")
        con.execute("DROP TABLE tattr")
        self.tv = None
        self.progress("formatted tickets")

        # responses
        con.register("r_df", self.rnum)
        email, phone = self._contact_sql("r")

        def dim(col):
            return f"CASE WHEN r.{col} < 0 THEN NULL ELSE r.{col}::VARCHAR END"

        line = _csv_line([
            (f"CASE WHEN r.bad = {MK} THEN NULL ELSE {_zpad('S', 'r.rid', 7)} END", False),
            (ts_or_bad("r.sub", "r.tzv", "r.bad", "r.badv"), False),
            (self._cid_sql("r"), False),
            (email, False),  # built from slugs, domains, digits: never needs quoting
            (phone, False),
            (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 0 THEN (CASE WHEN r.badv % 2 = 0 THEN '11' ELSE '-1' END) "
             f"ELSE r.nps::VARCHAR END", False),
            (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 1 THEN (CASE WHEN r.badv % 2 = 0 THEN '0' ELSE '6' END) "
             f"ELSE r.csat::VARCHAR END", False),
            (f"CASE WHEN r.bad = {OOR} AND r.badv % 3 = 2 THEN '7' ELSE {dim('rel')} END", False),
            (dim("ass"), False), (dim("tan"), False), (dim("emp"), False), (dim("res"), False),
            ("CASE WHEN r.spend < 0 THEN NULL ELSE money(r.spend) END", False),
            ("cm.text", True),
        ])
        con.execute(f"""
        CREATE TABLE out_responses AS SELECT r.xd, r.seq, {line} AS line
        FROM r_df r
        LEFT JOIN cattr k ON k.idx = r.cust
        JOIN fnames uf ON uf.id = r.u_fn JOIN lnames ul ON ul.id = r.u_ln
        LEFT JOIN comments cm ON cm.id = r.com
        ORDER BY r.seq
        """)
        con.unregister("r_df")
        self.rnum = None
        con.execute("DROP TABLE cattr")
        self.progress("formatted responses")

    # ======================================================================
    # writing: rows are concatenated per extract in DuckDB (ordered by seq), one write per chunk
    # ======================================================================
    def write(self, con, chunk_rows=1_000_000):
        for folder in sorted(set(FOLDER.values())):
            (self.out / folder).mkdir(parents=True, exist_ok=True)
        for ent in ENTITIES:
            paths = {d: self.out / FOLDER[ent] / f"{ent}_{_day_str(d)}.{EXT[ent]}" for d in self.extract_days}
            head = b"" if EXT[ent] == "jsonl" else (",".join(HEADERS[ent]) + "\n").encode()
            for p in paths.values():  # an extract with nothing changed gets no file (an empty one is rejected)
                p.unlink(missing_ok=True)
            started = set()
            n = self.counts[ent]["rows"]
            for a in range(0, n, chunk_rows):
                b = min(a + chunk_rows, n) - 1
                res = con.execute(
                    f"SELECT xd, encode(string_agg(line, chr(10) ORDER BY seq)) FROM out_{ent} "
                    f"WHERE seq BETWEEN {a} AND {b} GROUP BY xd ORDER BY xd").fetchall()
                for xd, blob in res:
                    with open(paths[int(xd)], "ab") as f:
                        if xd not in started:
                            f.write(head)
                            started.add(xd)
                        f.write(blob)
                        f.write(b"\n")
                del res
            con.execute(f"DROP TABLE out_{ent}")
            self.counts[ent]["files"] = len(started)
            self.progress(f"wrote {ent}: {n:,} rows in {len(started)} files")

    def run(self):
        _log(f"customers={self.N:,} days={self.D} window={_day_str(self.S_day)}..{_day_str(self.E_day)} "
             f"extracts={len(self.extract_days)} (every {self.K} days"
             + (f", full dump until {_day_str(self.D0)}" if self.D0 is not None else "") + ")")
        self.customers_base()
        self.products()
        self.orders()
        self.customer_versions()
        self.tickets()
        self.responses()
        self.out.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="c360_gen_")
        try:
            con = duckdb.connect(":memory:")
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET temp_directory = '{tmp}'")
            con.execute("SET memory_limit = '5GB'")
            con.execute("SET preserve_insertion_order = true")
            self.build_tables(con)
            self.write(con)
            con.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return {e: self.counts[e] for e in ENTITIES}


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------
def generate(out_dir, customers: int, days: int, seed: int, end_date: str = "2026-06-30",
             extract_every_days: int = 1, bad_row_rate: float = 0.005,
             full_dump_until: str | None = None) -> dict:
    """Generate the source extracts into ``out_dir`` (created if missing; files are overwritten).

    Returns ``{entity: {"rows": int, "files": int, "bad": {kind: int}}}`` for the entities
    customers, products, orders, order_lines, tickets, responses.  ``rows`` counts every row/line
    written, bad and duplicate rows included; ``bad`` counts bad rows per kind.
    """
    gen = _Gen(out_dir, customers, days, seed, end_date, extract_every_days, bad_row_rate, full_dump_until)
    return gen.run()


def _date_arg(s: str) -> str:
    try:
        _dt.date.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {s!r}") from exc
    return s


def register(subparsers) -> None:
    """Add the ``generate`` sub-command to an argparse subparsers object."""
    p = subparsers.add_parser(
        "generate",
        help="generate deterministic demo source extracts (sales/, service/, survey/)",
        description="Generate realistic, deterministic source extracts for the customer-360 warehouse.",
    )
    p.add_argument("--customers", type=int, required=True, help="number of ERP customers")
    p.add_argument("--days", type=int, required=True, help="days of history ending on --end-date")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed + args = same bytes)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--end-date", type=_date_arg, default="2026-06-30", help="last extract date (default 2026-06-30)")
    p.add_argument("--extract-every-days", type=int, default=1, help="days between extracts (default 1)")
    p.add_argument("--bad-row-rate", type=float, default=0.005, help="share of bad rows (default 0.005)")
    p.add_argument("--full-dump-until", type=_date_arg, default=None,
                   help="put every version dated on or before this date into one initial extract")
    p.set_defaults(func=run_from_args)


def run_from_args(args) -> int:
    t0 = time.time()
    try:
        counts = generate(args.out, customers=args.customers, days=args.days, seed=args.seed,
                          end_date=args.end_date, extract_every_days=args.extract_every_days,
                          bad_row_rate=args.bad_row_rate, full_dump_until=args.full_dump_until)
    except ValueError as exc:
        print(f"c360 generate: error: {exc}", file=sys.stderr)
        return 2
    _log(f"done in {time.time() - t0:.1f}s -> {os.fspath(args.out)}")
    for ent in ENTITIES:
        c = counts[ent]
        bad = ", ".join(f"{k}={v}" for k, v in c["bad"].items())
        print(f"  {ent:<12} {c['rows']:>12,} rows  {c['files']:>5} files  bad: {bad}", file=sys.stderr)
    return 0
