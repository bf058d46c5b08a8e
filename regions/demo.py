"""Two real counties: Shouguang (Shandong, vegetables) and Guiding (Guizhou, Yunwu tea)."""

from .models import Region

COUNTIES = [
    {
        "name": "寿光市", "code": "370783", "province": "山东省",
        "townships": [
            {"name": "孙家集街道", "code": "370783004", "villages": [("三元朱村", "370783004201"), ("孙家集村", "370783004202")]},
            {"name": "洛城街道", "code": "370783003", "villages": [("东斟灌村", "370783003201"), ("屯田村", "370783003202")]},
            {"name": "稻田镇", "code": "370783103", "villages": [("崔岭西村", "370783103201"), ("桂河村", "370783103202")]},
        ],
    },
    {
        "name": "贵定县", "code": "522723", "province": "贵州省",
        "townships": [
            {"name": "云雾镇", "code": "522723104", "villages": [("鸟王村", "522723104201"), ("摆城村", "522723104202")]},
            {"name": "昌明镇", "code": "522723103", "villages": [("摆耳村", "522723103201"), ("新坪村", "522723103202")]},
        ],
    },
]


def _region(report, *, code, **fields) -> Region:
    region = Region.objects.filter(code=code).first()
    created = region is None
    if created:
        region = Region(code=code, **fields)
        region.save()
    report.record(region, created)
    return region


def seed(report) -> None:
    for county_data in COUNTIES:
        county = _region(report, code=county_data["code"], name=county_data["name"], level=Region.Level.COUNTY,
                         province=county_data["province"])
        for township_data in county_data["townships"]:
            township = _region(report, code=township_data["code"], name=township_data["name"],
                               level=Region.Level.TOWNSHIP, parent=county, province=county.province)
            for name, code in township_data["villages"]:
                _region(report, code=code, name=name, level=Region.Level.VILLAGE, parent=township,
                        province=county.province)
