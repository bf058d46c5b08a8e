"""Registration's throttle, counted in the shared (Redis) cache (core/throttling.py). Sign-ins are
limited by the login guard (accounts/login_guard.py), which the API and the admin share."""

from core.throttling import IPRateThrottle, WindowRateThrottle


class RegisterIPThrottle(IPRateThrottle):
    scope = "register_ip"


class PasswordChangeThrottle(WindowRateThrottle):
    """The password change checks the current password: a few guesses a minute per account."""

    scope = "password_change"

    def get_key_ident(self, request, view):
        return f"user:{request.user.pk}" if request.user.is_authenticated else None
