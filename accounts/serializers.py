from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from regions.models import Region

from .models import Role, User
from .tokens import token_pair
from .validators import phone_validator, username_validator


class RegisterInput(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[username_validator])
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=[Role.CONSUMER, Role.MERCHANT], error_messages={
        "invalid_choice": _("“{input}” is not a role you can register as; choose consumer or merchant."),
    })
    phone = serializers.CharField(max_length=11, required=False, allow_blank=True, validators=[phone_validator])
    email = serializers.EmailField(required=False, allow_blank=True)


class OperatorCreateInput(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[username_validator])
    password = serializers.CharField(max_length=128, write_only=True)
    county = serializers.PrimaryKeyRelatedField(queryset=Region.objects.filter(level=Region.Level.COUNTY))
    phone = serializers.CharField(max_length=11, required=False, allow_blank=True, validators=[phone_validator])
    email = serializers.EmailField(required=False, allow_blank=True)


class CountyBrief(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code"]


class UserOutput(serializers.ModelSerializer):
    # Output only: the input patterns live on RegisterInput, not in the response schema.
    username = serializers.CharField(read_only=True)
    county = CountyBrief(read_only=True, allow_null=True)
    shop = serializers.SerializerMethodField(help_text=_("The merchant's shop id, once it has applied."))

    class Meta:
        model = User
        fields = ["id", "username", "role", "phone", "email", "county", "shop", "language", "date_joined"]

    def get_shop(self, user) -> int | None:
        merchant = getattr(user, "merchant", None) if user.role == Role.MERCHANT else None
        return merchant.pk if merchant else None


class TokenObtainInput(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        return token_pair(user)


class TokenRefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenPairOutput(serializers.Serializer):
    refresh = serializers.CharField()
    access = serializers.CharField()


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)
    everywhere = serializers.BooleanField(required=False, default=False,
                                          help_text=_("End every token of the account, on every device."))


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
