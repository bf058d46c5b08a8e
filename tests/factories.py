import factory

from accounts.models import Role, User
from logistics.models import Hub
from regions.models import Region

PASSWORD = "Str0ng-pass-村播"


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"测试县{n}")
    code = factory.Sequence(lambda n: f"9{n:05d}")
    level = Region.Level.COUNTY
    province = "山东省"


class TownshipFactory(CountyFactory):
    name = factory.Sequence(lambda n: f"测试镇{n}")
    code = factory.Sequence(lambda n: f"9{n:08d}")
    level = Region.Level.TOWNSHIP
    parent = factory.SubFactory(CountyFactory)


class VillageFactory(CountyFactory):
    name = factory.Sequence(lambda n: f"测试村{n}")
    code = factory.Sequence(lambda n: f"9{n:011d}")
    level = Region.Level.VILLAGE
    parent = factory.SubFactory(TownshipFactory)


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub

    kind = Hub.Kind.VILLAGE_POINT
    name = factory.Sequence(lambda n: f"服务点{n}")
    code = factory.Sequence(lambda n: f"HUB-T{n}")
    region = factory.SubFactory(VillageFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.CONSUMER
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ConsumerFactory(UserFactory):
    role = Role.CONSUMER


class MerchantUserFactory(UserFactory):
    role = Role.MERCHANT


class OperatorFactory(UserFactory):
    role = Role.OPERATOR
    county = factory.SubFactory(CountyFactory)


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True
