"""Login and registration throttles, counted in the shared (Redis) cache (core/throttling.py)."""

from core.throttling import IPRateThrottle, WindowRateThrottle


class LoginIPThrottle(IPRateThrottle):
    scope = "login_ip"


class LoginUsernameThrottle(WindowRateThrottle):
    """Stops guessing one account's password from many addresses."""

    scope = "login_username"

    def get_key_ident(self, request, view):
        data = request.data
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username.strip():
            return None
        return username.strip().lower()[:150]


class RegisterIPThrottle(IPRateThrottle):
    scope = "register_ip"


class PasswordChangeThrottle(WindowRateThrottle):
    """The password change checks the current password: as many guesses as a login allows."""

    scope = "login_username"

    def get_key_ident(self, request, view):
        return f"user:{request.user.pk}" if request.user.is_authenticated else None
