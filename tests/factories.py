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


class CourierUserFactory(UserFactory):
    """A courier account: scans and carries in its county, nothing else."""

    role = Role.COURIER
    county = factory.SubFactory(CountyFactory)


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


# --- merchants and catalog -------------------------------------------------------
from decimal import Decimal  # noqa: E402

from catalog.models import Category, Product  # noqa: E402
from merchants.models import Merchant  # noqa: E402


class MerchantFactory(factory.django.DjangoModelFactory):
    """An approved shop in a village (and so a county) of its own unless given one."""

    class Meta:
        model = Merchant

    user = factory.SubFactory(MerchantUserFactory)
    shop_name = factory.Sequence(lambda n: f"合作社{n}")
    kind = Merchant.Kind.COOPERATIVE
    village = factory.SubFactory(VillageFactory)
    contact_phone = factory.Sequence(lambda n: f"137{n:08d}")
    status = Merchant.Status.APPROVED


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "蔬菜"
    slug = "vegetables"


class ProductFactory(factory.django.DjangoModelFactory):
    """A listed product of an approved merchant, grown in the merchant's village."""

    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"寿光西红柿{n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("12.50")
    unit = "斤"
    stock = 100
    origin = factory.LazyAttribute(lambda p: p.merchant.village)
    status = Product.Status.LISTED


# --- livestream ------------------------------------------------------------------
import datetime  # noqa: E402

from django.utils import timezone  # noqa: E402

from livestream.models import Offer, Stream  # noqa: E402


class StreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stream

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"田间直播{n}")
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))


class OfferFactory(factory.django.DjangoModelFactory):
    """A live offer; its units are assumed already set aside from the product's stock."""

    class Meta:
        model = Offer

    stream = factory.SubFactory(StreamFactory, status=Stream.Status.LIVE)
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..stream.merchant"))
    price = Decimal("9.90")
    quantity = 50
    remaining = factory.SelfAttribute("quantity")
    ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(minutes=10))
