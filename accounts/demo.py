"""Demo people: an operator per demo county and a consumer. Passwords are printed."""

from regions.models import Region

from .models import Role, User

DEMO_PASSWORD = "cunbo-demo-2026"

OPERATORS = [("shouguang_operator", "370783", "13800000001"), ("guiding_operator", "522723", "13800000002")]


def _user(report, username, **fields) -> User:
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        user = User(username=username, **fields)
        user.set_password(DEMO_PASSWORD)
        user.save()
    report.record(user, created)
    return user


def seed(report) -> None:
    for username, county_code, phone in OPERATORS:
        _user(report, username, role=Role.OPERATOR, county=Region.objects.get(code=county_code), phone=phone)
    _user(report, "demo_consumer", role=Role.CONSUMER, phone="13900000001")
    report.note(f"demo users (operators, demo_consumer) sign in with password “{DEMO_PASSWORD}”")
