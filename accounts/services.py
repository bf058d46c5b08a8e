from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

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
