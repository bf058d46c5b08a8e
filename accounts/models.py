from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from .validators import phone_validator


class Role(models.TextChoices):
    CONSUMER = "consumer", _("consumer")
    MERCHANT = "merchant", _("merchant")
    OPERATOR = "operator", _("operator")
    COURIER = "courier", _("courier")
    ADMIN = "admin", _("admin")


class CunboUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CONSUMER, db_index=True)
    phone = models.CharField(_("phone"), max_length=11, blank=True, validators=[phone_validator])
    county = models.ForeignKey(
        "regions.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operators",
        limit_choices_to={"level": "county"},
        verbose_name=_("county"),
        help_text=_("The county an operator works for."),
    )
    token_version = models.PositiveIntegerField(
        _("token version"), default=0, editable=False,
        help_text=_("Raised by a password change, deactivation or sign-out everywhere: every token issued "
                    "before it stops working."))
    language = models.CharField(_("language"), max_length=10, default="zh-hans", choices=[("zh-hans", "简体中文"), ("en", "English")])

    objects = CunboUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="operator") | models.Q(county__isnull=False),
                name="operator_has_county",
            )
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._auth_as_loaded = (user.__dict__.get("password"), user.__dict__.get("is_active"))
        return user

    def _ends_tokens(self) -> bool:
        """A new password, or an active account deactivated, since this user was loaded."""
        loaded = getattr(self, "_auth_as_loaded", None)
        if loaded is None:
            return False
        password, active = loaded
        changed_password = password is not None and self.__dict__.get("password", password) != password
        deactivated = active is True and self.__dict__.get("is_active", True) is False
        return changed_password or deactivated

    def save(self, *args, **kwargs):
        # One place for "every token of this user ends": whatever saves the user (the password API,
        # the admin's password form or its "active" box, `manage.py changepassword`, a service).
        ends_tokens = self.pk is not None and self._ends_tokens()
        if ends_tokens:
            self.token_version = F("token_version") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "token_version"}
        super().save(*args, **kwargs)
        if ends_tokens:
            self.refresh_from_db(fields=["token_version"])
        if getattr(self, "_auth_as_loaded", None) is not None:  # tracked for users read from the database
            self._auth_as_loaded = (self.__dict__.get("password"), self.__dict__.get("is_active"))

    def clean(self):
        super().clean()
        if self.role == Role.OPERATOR and not self.county_id:
            raise ValidationError({"county": _("An operator must belong to a county.")})
        if self.role == Role.COURIER and not self.county_id:
            raise ValidationError({"county": _("A courier must belong to a county.")})

    @property
    def is_consumer(self) -> bool:
        return self.role == Role.CONSUMER

    @property
    def is_merchant(self) -> bool:
        return self.role == Role.MERCHANT

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_courier(self) -> bool:
        """Scans parcels and carries runs in its county; sees no other operator screen."""
        return self.role == Role.COURIER

    @property
    def works_in_county(self) -> bool:
        """Operators and couriers: held to their county's hubs, parcels and runs."""
        return self.role in (Role.OPERATOR, Role.COURIER)

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_staff_member(self) -> bool:
        """Operators and admins: the people who vet and run the county."""
        return self.is_operator or self.is_platform_admin
