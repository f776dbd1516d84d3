"""People: name, email and phone vocabularies, and how a person's identity is written.

Names come in (display, latin, slug) form per culture; emails are built from slugs and domains,
phone numbers from national numbers. The SQL macros here write them the way each system does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .arrays import offsets
from .render import execute_all

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
# how the help desk and survey write an email (fmt_email) and a phone number (fmt_phone)
EMAIL_VARIANT_P = [0.50, 0.10, 0.15, 0.08, 0.07, 0.04, 0.06]
PHONE_VARIANT_P = [0.25, 0.20, 0.15, 0.10, 0.15, 0.10, 0.05]


def draw_name_ids(rng, culture):
    """First and last name ids (rows of the fnames / lnames tables) for people of ``culture``."""
    n = len(culture)
    fcount = np.array([len(FIRST_NAMES[c]) for c in CULTURES])
    lcount = np.array([len(LAST_NAMES[c]) for c in CULTURES])
    fn = offsets(fcount)[culture] + (rng.random(n) * fcount[culture]).astype(np.int64)
    ln = offsets(lcount)[culture] + (rng.random(n) * lcount[culture]).astype(np.int64)
    return fn, ln


def create_tables(con) -> None:
    """Tables fnames / lnames (id, culture, disp, latin, slug) and the identity macros."""
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
    execute_all(con, """
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
    """)
