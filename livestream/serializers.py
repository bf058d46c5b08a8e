"""Input and output shapes of the live-room API (no logic)."""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import IntegerField

from .models import ChatMessage, ChatMute, Offer, Stream
from .services.banned_words import MAX_WORD_LENGTH as MAX_BANNED_WORD_LENGTH
from .services.banned_words import MAX_WORDS as MAX_BANNED_WORDS


def playback_url(stream: Stream) -> str:
    return f"{settings.STREAM_PLAYBACK_BASE_URL.rstrip('/')}/{stream.playback_id}.m3u8"


# --- inputs -----------------------------------------------------------------------------------


class StreamListFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Stream.Status.choices, required=False)
    merchant = serializers.IntegerField(required=False, min_value=1)
    mine = serializers.BooleanField(required=False, default=False,
                                    help_text=_("Only my own streams (merchants), cancelled ones included."))


class StreamCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    scheduled_at = serializers.DateTimeField()
    products = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True,
                                     max_length=100)
    cover = serializers.FileField(required=False, help_text=_("JPEG, PNG or WebP; at most 5 MB."))


class StreamUpdateInput(StreamCreateInput):
    title = serializers.CharField(max_length=100, required=False)
    scheduled_at = serializers.DateTimeField(required=False)
    products = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=100)
    banned_words = serializers.ListField(
        child=serializers.CharField(max_length=MAX_BANNED_WORD_LENGTH), required=False, max_length=MAX_BANNED_WORDS,
        help_text=_("The owner's own banned words for this room's chat, on top of the platform's list "
                    "(matched ignoring case, full-width forms and invisible characters); replaces the list."))


class PinInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, allow_null=True, help_text=_("null unpins."))


@extend_schema_field({"type": "integer", "minimum": settings.LIVE_OFFER_MIN_DURATION_S,
                     "maximum": settings.LIVE_OFFER_MAX_DURATION_S})
class OfferDurationField(IntegerField):
    """The schema says the bounds the service holds an offer to (LIVE_OFFER_MIN/MAX_DURATION_S)."""


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
class UnitsField(IntegerField):
    """A count of units: at least one."""


class OfferCreateInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    quantity = UnitsField()
    per_buyer_limit = UnitsField(required=False, allow_null=True)
    duration_s = OfferDurationField(help_text=_("How long the offer runs, in seconds."))


class MuteInput(serializers.Serializer):
    user = serializers.IntegerField(min_value=1)


class HookForm(serializers.Serializer):
    """nginx-rtmp's on_publish / on_publish_done form (other fields are ignored)."""

    name = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("The stream key."))
    app = serializers.CharField(required=False, allow_blank=True, default="")
    addr = serializers.CharField(required=False, allow_blank=True, default="")
    call = serializers.CharField(required=False, allow_blank=True, default="")


# --- outputs ----------------------------------------------------------------------------------


class StreamShop(serializers.Serializer):
    id = serializers.IntegerField()
    shop_name = serializers.CharField()


class StreamProduct(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit = serializers.CharField()
    stock = serializers.IntegerField()


class OfferOutput(serializers.ModelSerializer):
    product = StreamProduct()
    sold = serializers.IntegerField(read_only=True)

    class Meta:
        model = Offer
        fields = ["id", "product", "price", "quantity", "remaining", "sold", "returned", "per_buyer_limit",
                  "status", "end_reason", "starts_at", "ends_at", "ended_at"]


class StreamTotals(serializers.Serializer):
    peak_viewers = serializers.IntegerField()
    chat_messages = serializers.IntegerField()
    orders = serializers.IntegerField(help_text=_("Paid orders placed from the stream with this shop."))
    units = serializers.IntegerField()
    gmv = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Paid sales, CNY."))


class StreamListOutput(serializers.ModelSerializer):
    merchant = StreamShop()
    playback_url = serializers.SerializerMethodField()
    viewers = serializers.SerializerMethodField(help_text=_(
        "Viewers in the room now (live streams): distinct signed-in users and anonymous addresses."))

    class Meta:
        model = Stream
        fields = ["id", "title", "cover", "merchant", "status", "scheduled_at", "started_at", "ended_at",
                  "cancelled_at", "playback_url", "viewers", "pinned_product"]

    def get_playback_url(self, stream) -> str:
        return playback_url(stream)

    def get_viewers(self, stream) -> int:
        return self.context.get("viewers", {}).get(stream.pk, 0)


class StreamOutput(StreamListOutput):
    products = StreamProduct(many=True)
    pinned_product = StreamProduct(allow_null=True)
    offers = serializers.SerializerMethodField(help_text=_("The live offers."))
    totals = serializers.SerializerMethodField(help_text=_("Once the stream has ended."))
    peak_viewers = serializers.IntegerField()

    class Meta(StreamListOutput.Meta):
        fields = StreamListOutput.Meta.fields + ["products", "offers", "peak_viewers", "totals"]

    def get_viewers(self, stream) -> int:
        return getattr(stream, "viewer_count", 0)

    @extend_schema_field(OfferOutput(many=True))
    def get_offers(self, stream):
        return OfferOutput(getattr(stream, "live_offers", []), many=True).data

    @extend_schema_field(StreamTotals(allow_null=True))
    def get_totals(self, stream):
        totals = getattr(stream, "totals", None)
        return StreamTotals(totals).data if totals else None


OWNER_ONLY = ("stream_key", "ingest_url", "ingest_active", "banned_words")


class StreamDetailOutput(StreamOutput):
    """A stream; its owner also gets the secret key and where to push (absent for anyone else)."""

    stream_key = serializers.CharField(required=False, help_text=_("Owner only: the secret key to push with."))
    ingest_url = serializers.CharField(required=False, source="playback_id",
                                       help_text=_("Owner only: push to <ingest_url>/<stream_key>."))
    ingest_active = serializers.BooleanField(required=False, help_text=_("Owner only: an encoder is pushing."))
    banned_words = serializers.ListField(child=serializers.CharField(), required=False,
                                         help_text=_("Owner only: the room's own banned words."))

    class Meta(StreamOutput.Meta):
        fields = StreamOutput.Meta.fields + list(OWNER_ONLY)

    def to_representation(self, stream):
        data = super().to_representation(stream)
        if getattr(stream, "is_owner", False):
            data["ingest_url"] = settings.STREAM_INGEST_URL
        else:
            for key in OWNER_ONLY:
                data.pop(key, None)
        return data


class ChatUser(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    host = serializers.BooleanField()


class ChatMessageOutput(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ChatMessage
        fields = ["id", "user", "text", "at"]

    @extend_schema_field(ChatUser)
    def get_user(self, message):
        return {"id": message.user_id, "name": message.user.username,
                "host": message.user_id == message.stream.merchant.user_id}


class MuteOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = ChatMute
        fields = ["user", "username", "created_at"]
