"""Registration's throttle, counted in the shared (Redis) cache (core/throttling.py). Sign-ins are
limited by the login guard (accounts/login_guard.py), which the API and the admin share."""

from core.throttling import IPRateThrottle


class RegisterIPThrottle(IPRateThrottle):
    scope = "register_ip"
