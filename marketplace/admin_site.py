from django.contrib.admin import AdminSite

from accounts.forms import GuardedAdminAuthenticationForm


class CunboAdminSite(AdminSite):
    """The admin: its sign-in form consults the login guard (accounts/login_guard.py), exactly as
    ``POST /api/auth/token`` does: per-account back-off, per-address limit, no captcha."""

    login_form = GuardedAdminAuthenticationForm
