"""The category tree, and listed products with claims and traceable harvest batches for the demo shops."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from merchants.models import Merchant

from .models import Category, Product
from .services import batch_create, product_create, product_review

CATEGORIES = [
    ("vegetables", "蔬菜", [("tomatoes", "番茄"), ("cucumbers", "黄瓜"), ("peppers", "辣椒彩椒"), ("leafy", "叶菜")]),
    ("fruit", "水果", [("apples", "苹果"), ("citrus", "柑橘")]),
    ("tea", "茶叶", [("green-tea", "绿茶"), ("black-tea", "红茶")]),
    ("grain-oil", "粮油", [("rice", "大米"), ("edible-oil", "食用油")]),
    ("meat", "肉类", [("beef", "牛肉"), ("mutton", "羊肉")]),
    ("eggs", "禽蛋", []),
    ("aquatic", "水产", []),
    ("processed", "加工食品", [("pickles", "酱腌菜"), ("dried", "干货")]),
]

PRODUCTS = [
    ("sanyuanzhu_coop", "shouguang_operator", {
        "title": "寿光有机西红柿 5斤装", "category": "tomatoes", "price": "39.90", "unit": "箱", "stock": 500,
        "description": "三元朱村冬暖式大棚种植，自然转色成熟，沙瓤多汁。有机认证，产地直发。",
        "perishable": True, "cold_chain_required": False, "shelf_life_days": 10,
        "claims": ["organic", "geo_indication", "pesticide_tested"], "plot": "三元朱村7号大棚", "quantity": "1800",
    }),
    ("sanyuanzhu_coop", "shouguang_operator", {
        "title": "寿光水果黄瓜 带刺顶花", "category": "cucumbers", "price": "6.80", "unit": "斤", "stock": 2000,
        "description": "早上采摘当天发货，脆嫩清甜，可直接生吃。绿色食品认证。",
        "perishable": True, "cold_chain_required": False, "shelf_life_days": 7,
        "claims": ["green_food", "geo_indication"], "plot": "三元朱村12号大棚", "quantity": "5000",
    }),
    ("sanyuanzhu_coop", "shouguang_operator", {
        "title": "寿光彩椒 红黄双色礼盒", "category": "peppers", "price": "58.00", "unit": "盒", "stock": 300,
        "description": "红椒黄椒各半，果肉厚实，适合沙拉和清炒。",
        "perishable": True, "cold_chain_required": True, "shelf_life_days": 14,
        "claims": ["geo_indication"], "plot": "三元朱村3号大棚", "quantity": "900",
    }),
    ("yunwu_tea_coop", "guiding_operator", {
        "title": "贵定云雾贡茶 明前特级 100克", "category": "green-tea", "price": "268.00", "unit": "罐", "stock": 150,
        "description": "云雾山海拔1300米高山茶园，明前一芽一叶手工炒制，条索紧细卷曲，栗香持久。",
        "perishable": False, "cold_chain_required": False, "shelf_life_days": 540,
        "claims": ["geo_indication", "green_food", "pesticide_tested"], "plot": "鸟王村云雾山茶园", "quantity": "60",
    }),
    ("yunwu_tea_coop", "guiding_operator", {
        "title": "云雾绿茶 雨前一级 250克", "category": "green-tea", "price": "98.00", "unit": "袋", "stock": 400,
        "description": "雨前采摘，口感鲜爽，日常口粮茶。",
        "perishable": False, "cold_chain_required": False, "shelf_life_days": 540,
        "claims": ["geo_indication"], "plot": "鸟王村后山茶园", "quantity": "200",
    }),
    ("zhang_farmer", "shouguang_operator", {
        "title": "老张家旱黄瓜 农家自种", "category": "cucumbers", "price": "4.50", "unit": "斤", "stock": 600,
        "description": "露天种植的旱黄瓜，个头不大，黄瓜味浓。每批送检农残。",
        "perishable": True, "cold_chain_required": False, "shelf_life_days": 5,
        "claims": ["pesticide_tested"], "plot": "崔岭西村东地", "quantity": "1500",
    }),
]


def _categories(report) -> None:
    for position, (slug, name, children) in enumerate(CATEGORIES):
        parent, created = Category.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})
        report.record(parent, created)
        for child_position, (child_slug, child_name) in enumerate(children):
            child, created = Category.objects.get_or_create(
                slug=child_slug, defaults={"name": child_name, "parent": parent, "position": child_position})
            report.record(child, created)


def seed(report) -> None:
    _categories(report)
    today = timezone.localdate()
    for username, operator_name, data in PRODUCTS:
        merchant = Merchant.objects.filter(user__username=username).first()
        if merchant is None:
            continue
        existing = Product.objects.filter(merchant=merchant, title=data["title"]).first()
        if existing is not None:
            report.record(existing, False)
            continue
        user, operator = merchant.user, User.objects.get(username=operator_name)
        product = product_create(
            user=user, title=data["title"], category=Category.objects.get(slug=data["category"]),
            price=Decimal(data["price"]), unit=data["unit"], stock=data["stock"], origin=merchant.village,
            description=data["description"], perishable=data["perishable"],
            cold_chain_required=data["cold_chain_required"], shelf_life_days=data["shelf_life_days"],
            claims=data["claims"],
        )
        batch = batch_create(
            product_id=product.pk, user=user, harvested_at=today - datetime.timedelta(days=2), plot=data["plot"],
            quantity=Decimal(data["quantity"]),
            inspection={"agency": "寿光市农产品质量检测中心" if "寿光" in merchant.county.name else "黔南州农产品质量安全检测站",
                        "inspected_at": today - datetime.timedelta(days=1), "result": "pass"},
        )
        product_review(product_id=product.pk, actor=operator, decision="approve")
        report.record(product, True)
        report.note(f"{product.title}: listed; trace /api/trace/{batch.trace_code}/")
