"""The sign-in forms of the admin and of the pages, held to the same login guard as the API
(accounts/login_guard.py)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.encoding import force_str

from . import login_guard


class _Guarded:
    def clean(self):
        try:
            attempt = login_guard.begin(username=self.cleaned_data.get("username"), request=self.request)
        except login_guard.LoginRefused as refused:
            raise ValidationError(force_str(refused.detail), code="login_refused") from None
        cleaned = super().clean()  # a wrong password raises here and stays counted
        if self.get_user() is not None:  # signed in (not merely a form with a field missing)
            login_guard.succeeded(attempt)
        return cleaned


class GuardedAdminAuthenticationForm(_Guarded, AdminAuthenticationForm):
    """The admin's sign-in (staff only)."""


class GuardedAuthenticationForm(_Guarded, AuthenticationForm):
    """The pages' sign-in (any active user, into a Django session)."""
