"""Demo shops: a Shouguang vegetable cooperative, a Guiding Yunwu tea cooperative and a Shouguang farmer.

Each goes the real way: the merchant applies and uploads its documents, the county's
operator verifies them and approves the shop. Passwords are printed.
"""

import datetime

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import Role, User
from regions.models import Region

from .models import Credential, Merchant
from .services import credential_add, credential_review, merchant_apply, merchant_review
from .validators import id_card_check_digit, uscc_check_char


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def _id_card(body17: str) -> str:
    return body17 + id_card_check_digit(body17)


def _in(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


SHOPS = [
    {
        "username": "sanyuanzhu_coop", "phone": "13800000011", "operator": "shouguang_operator",
        "shop_name": "寿光市三元朱村蔬菜专业合作社", "village": "370783004201", "kind": Merchant.Kind.COOPERATIVE,
        "contact_phone": "13853600011",
        "description": "冬暖式大棚蔬菜的发源地。合作社统一种苗、统一农资、统一检测、统一品牌，常年供应番茄、黄瓜、彩椒。",
        "credentials": [
            ("business_license", _uscc("93370783MA3C1234"[:17].ljust(17, "0")), "寿光市市场监督管理局", None),
            ("organic_cert", "124OP2600311", "中绿华夏有机产品认证中心", 300),
            ("green_food_cert", "LB-15-26030712345A", "中国绿色食品发展中心", 700),
            ("geo_indication", "AGI2010-02-00336", "农业农村部（寿光蔬菜）", None),
        ],
    },
    {
        "username": "yunwu_tea_coop", "phone": "13800000012", "operator": "guiding_operator",
        "shop_name": "贵定县云雾镇鸟王村贡茶专业合作社", "village": "522723104201", "kind": Merchant.Kind.COOPERATIVE,
        "contact_phone": "13885400012",
        "description": "云雾山海拔1300米的高山茶园，明前手工炒制贵定云雾贡茶。",
        "credentials": [
            ("business_license", _uscc("93522723MA6H7654"[:17].ljust(17, "0")), "贵定县市场监督管理局", None),
            ("geo_indication", "AGI2013-01-01126", "农业农村部（贵定云雾贡茶）", None),
            ("green_food_cert", "LB-44-26041102345A", "中国绿色食品发展中心", 500),
        ],
    },
    {
        "username": "zhang_farmer", "phone": "13800000013", "operator": "shouguang_operator",
        "shop_name": "老张家的菜园", "village": "370783103201", "kind": Merchant.Kind.INDIVIDUAL,
        "contact_phone": "13853600013", "description": "稻田镇崔岭西村，一家三口种了二十年黄瓜。",
        "credentials": [("id_card", _id_card("37078319750315201"), "寿光市公安局", 2400)],
    },
]


def _merchant_user(report, data) -> User:
    user = User.objects.filter(username=data["username"]).first()
    created = user is None
    if created:
        user = User(username=data["username"], role=Role.MERCHANT, phone=data["phone"])
        user.set_password(DEMO_PASSWORD)
        user.save()
    report.record(user, created)
    return user


def seed(report) -> None:
    for data in SHOPS:
        user = _merchant_user(report, data)
        operator = User.objects.get(username=data["operator"])
        merchant = Merchant.objects.filter(user=user).first()
        if merchant is not None:
            report.record(merchant, False)
            continue
        village = Region.objects.get(code=data["village"])
        merchant = merchant_apply(user=user, shop_name=data["shop_name"], village=village, kind=data["kind"],
                                  contact_phone=data["contact_phone"], description=data["description"])
        for kind, number, issuer, days in data["credentials"]:
            credential = credential_add(merchant=merchant, actor=user, kind=kind, number=number, issuer=issuer,
                                        issued_at=_in(-60), expires_at=_in(days) if days else None)
            credential_review(credential=credential, actor=operator, decision="approve")
        merchant_review(merchant_id=merchant.pk, actor=operator, decision="approve")
        report.record(merchant, True)
        report.note(f"{data['shop_name']}: {Credential.objects.filter(merchant=merchant).count()} verified "
                    f"credentials, approved by {operator.username}")
    report.note(f"demo merchants ({', '.join(s['username'] for s in SHOPS)}) sign in with password “{DEMO_PASSWORD}”")
