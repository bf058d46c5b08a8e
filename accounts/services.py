from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from core.errors import ValidationFailed
from regions.models import Region

from .models import Role, User

SELF_REGISTERING_ROLES = (Role.CONSUMER, Role.MERCHANT)


def _validated_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("The password is too weak."), code="weak_password", fields={"password": exc.messages}) from exc


@transaction.atomic
def user_register(*, username: str, password: str, role: str, phone: str = "", email: str = "") -> User:
    if role not in SELF_REGISTERING_ROLES:
        raise ValidationFailed(
            _("Only consumers and merchants can register."), fields={"role": [_("Choose consumer or merchant.")]}
        )
    return _user_create(username=username, password=password, role=role, phone=phone, email=email)


@transaction.atomic
def operator_create(*, username: str, password: str, county: Region, phone: str = "", email: str = "") -> User:
    if county.level != Region.Level.COUNTY:
        raise ValidationFailed(_("An operator works for a county."), fields={"county": [_("Choose a county.")]})
    return _user_create(username=username, password=password, role=Role.OPERATOR, phone=phone, email=email, county=county)


def _user_create(*, username, password, role, phone="", email="", county=None) -> User:
    user = User(username=username, role=role, phone=phone, email=email, county=county)
    _validated_password(password, user)
    user.set_password(password)
    try:
        user.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Some fields are invalid."), fields=exc.message_dict) from exc
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Some fields are invalid."), fields={"username": [_("A user with that username already exists.")]}
        ) from None
    return user


def user_revoke_tokens(user: User) -> None:
    """End every access and refresh token the user holds: raise ``token_version`` (every token
    carries it; core/jwt_auth.py refuses an older one) and blacklist the outstanding refresh tokens.
    Used on a merchant's suspension, a refresh token's reuse, and "sign out everywhere"; a password
    change and a deactivation raise the version in ``User.save``."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    live = OutstandingToken.objects.filter(user_id=user.pk, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=row) for row in live], ignore_conflicts=True)


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    """A new password ends every token issued before (``User.save`` raises the version)."""
    if not user.check_password(old_password):
        raise ValidationFailed(_("The current password is wrong."), code="wrong_password",
                               fields={"old_password": [_("The current password is wrong.")]})
    _validated_password(new_password, user)
    user.set_password(new_password)
    user.save()
    return user
