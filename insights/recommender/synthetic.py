"""An interaction log with planted structure, for CI and for docs/benchmarks.md.

Buyers have a province, one or two favourite categories, favourite counties (mostly of their own
province) and a price band; products have a county, a category, a price band, words of their own
category's vocabulary and a season (a three-month window, or all year). Each day a buyer may
browse: products are drawn in proportion to affinity × in season × a Zipf popularity, viewed, and
some carted, ordered and paid. A fifth of the buyers arrive only in the last weeks (new buyers),
and a tenth of the products are listed only then (nobody bought them before). A recommender that
learns the affinities and the season must beat "most popular" here; one that does not, cannot.
"""

from __future__ import annotations

import datetime
import random

from .types import Catalogue, Interaction, Item

CATEGORIES = {
    "fruit": "苹果 脆甜 果园 红富士 新鲜 水果 香梨 蜜桃",
    "vegetables": "西红柿 黄瓜 蔬菜 大棚 新鲜 土豆 白菜 有机",
    "grain": "大米 小米 杂粮 五常 稻花香 玉米 面粉",
    "tea": "绿茶 明前 茶叶 红茶 高山 炒青 毛尖",
    "honey": "蜂蜜 土蜂蜜 百花 槐花 农家 蜂巢",
    "meat": "土猪肉 散养 黑猪 腊肉 土鸡 鸭",
    "eggs": "土鸡蛋 鸭蛋 散养 农家 鹅蛋",
    "mushrooms": "香菇 木耳 干货 野生 菌菇 榛蘑",
}
PROVINCES = ("山东", "四川", "黑龙江")
BANDS = ("low", "mid", "high")
DAY = 86400.0


def generate(*, buyers: int = 1200, items: int = 360, days: int = 180, seed: int = 20,
             start: datetime.date = datetime.date(2026, 3, 1)) -> tuple[Catalogue, list[Interaction], float]:
    """(catalogue, interactions, end of the log as a timestamp)."""
    rng = random.Random(seed)
    counties = [(f"{province}{n}县", province) for province in PROVINCES for n in range(4)]
    categories = list(CATEGORIES)
    t0 = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC).timestamp()
    late = days - 21  # new buyers and new products start here
    catalogue_items, season, launched, quality = {}, {}, {}, {}
    for item_id in range(1, items + 1):
        county, province = rng.choice(counties)
        category = rng.choice(categories)
        words = rng.sample(CATEGORIES[category].split(), 3)
        catalogue_items[item_id] = Item(id=item_id, text=f"{county}{''.join(words)}", category=category,
                                        county=county, province=province, price_band=rng.choice(BANDS),
                                        claims=("organic",) if rng.random() < 0.2 else ())
        season[item_id] = None if rng.random() < 0.3 else rng.randrange(0, days, 7)
        launched[item_id] = late + rng.randrange(0, 14) if rng.random() < 0.1 else 0
        quality[item_id] = 1.0 / (1 + (item_id * 7919) % items) ** 0.4
    provinces, profiles = {}, {}
    for buyer in range(1, buyers + 1):
        province = rng.choice(PROVINCES)
        own = [c for c, p in counties if p == province]
        favourite_counties = set(rng.sample(own, 2)) | ({rng.choice(counties)[0]} if rng.random() < 0.3 else set())
        profiles[buyer] = (set(rng.sample(categories, rng.choice((1, 2)))), favourite_counties, rng.choice(BANDS),
                           late + rng.randrange(0, 7) if rng.random() < 0.2 else rng.randrange(0, 30),
                           rng.uniform(0.05, 0.25))
        provinces[buyer] = province
    log: list[Interaction] = []
    for buyer, (cats, fav_counties, band, first_day, rate) in profiles.items():
        for day in range(first_day, days):
            if rng.random() > rate:
                continue
            weights = []
            for item_id, item in catalogue_items.items():
                if launched[item_id] > day:
                    weights.append(0.0)
                    continue
                start_day = season[item_id]
                in_season = 1.0 if start_day is None or 0 <= day - start_day < 90 else 0.05
                affinity = ((4.0 if item.category in cats else 0.15) * (3.0 if item.county in fav_counties else 0.3)
                            * (2.0 if item.price_band == band else 0.6))
                weights.append(affinity * in_season * quality[item_id])
            at = t0 + day * DAY + rng.uniform(8, 22) * 3600
            for item_id in rng.choices(list(catalogue_items), weights=weights, k=rng.choice((1, 2, 3))):
                log.append(Interaction(buyer, item_id, "view", at))
                if rng.random() < 0.45:
                    log.append(Interaction(buyer, item_id, "cart_add", at + 60))
                    if rng.random() < 0.7:
                        log.append(Interaction(buyer, item_id, "order", at + 120))
                        log.append(Interaction(buyer, item_id, "paid", at + 180))
    log.sort(key=lambda row: row.at)
    return Catalogue(items=catalogue_items, provinces=provinces), log, t0 + days * DAY
