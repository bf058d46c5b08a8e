"""The login guard (issue #12, finding 5): the Django admin and the API sign-in share one
per-account back-off and one per-address limit (accounts/login_guard.py), captcha-free.

Time is moved with time_machine (the guard reads the clock it is given; its Redis keys only need
to outlive the waits). Each admin test drives the real admin login page; each API test the real
``POST /api/auth/token``.
"""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.login_guard import backoff_s, guard_reset
from tests import factories
from tests.factories import PASSWORD
from tests.security.conftest import FIGURES

pytestmark = pytest.mark.django_db

# The per-account rule alone (the per-address limit, 20 in 15 min of real time, is tested below).
ACCOUNT_ONLY = override_settings(LOGIN_GUARD_ADDRESS_FAILURES=10_000)
START = datetime.datetime(2026, 12, 3, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fresh_guard():
    guard_reset()
    yield
    guard_reset()


def admin_login(client: Client, username: str, password: str, address: str):
    """The admin's sign-in form, in English (the messages below are matched as text)."""
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def admin_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def admin_error(response) -> str:
    assert response.status_code == 200  # the form again, with its error
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def api_login(username: str, password: str, address: str):
    return APIClient().post("/api/auth/token", {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def test_the_back_off_doubles_and_is_capped():
    assert [backoff_s(n) for n in range(0, 5)] == [0] * 5
    assert [backoff_s(n) for n in range(5, 11)] == [2, 4, 8, 16, 32, 64]
    assert backoff_s(14) == 900 and backoff_s(40) == 900  # 15 minutes at most, never a lock


def _forty_wrong_passwords(traveller, send, is_refused, start):
    """40 wrong passwords from a patient attacker: each one sent as soon as the back-off allows,
    after one try half-way through the wait (refused, and not counted). Returns the refusals and
    when the last failure was."""
    now, refused = start, 0
    for failures in range(40):
        wait = backoff_s(failures)
        if wait:
            traveller.move_to(now + datetime.timedelta(seconds=wait / 2))
            assert is_refused(send("while-waiting")), failures
            refused += 1
        now += datetime.timedelta(seconds=wait + 1)
        traveller.move_to(now)
        assert not is_refused(send(f"guess-{failures}")), failures
    return refused, now


@ACCOUNT_ONLY
def test_forty_wrong_admin_passwords_then_the_right_one_waits_for_the_back_off():
    admin = factories.AdminFactory()
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        refused, last = _forty_wrong_passwords(
            traveller, lambda pw: admin_login(client, admin.username, pw, "10.20.0.1"),
            lambda r: "Too many failed sign-ins" in admin_error(r), START)
        assert refused == 35
        # the 40th failure: the next try waits the cap (15 min), the right password too
        right = admin_login(client, admin.username, PASSWORD, "10.20.0.1")
        assert not admin_in(right) and "Too many failed sign-ins for this account" in admin_error(right)
        traveller.move_to(last + datetime.timedelta(seconds=899))
        assert not admin_in(admin_login(client, admin.username, PASSWORD, "10.20.0.1"))
        traveller.move_to(last + datetime.timedelta(seconds=901))
        assert admin_in(admin_login(client, admin.username, PASSWORD, "10.20.0.1"))
    FIGURES["limits"]["limits"] += 1


def test_the_admin_answers_in_the_callers_language():
    admin = factories.AdminFactory()
    client = Client()
    with override_settings(LOGIN_GUARD_FREE_FAILURES=1):
        admin_login(client, admin.username, "nope", "10.21.0.1")
        refused = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD},
                              REMOTE_ADDR="10.21.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert not admin_in(refused) and admin_error(refused)


@ACCOUNT_ONLY
def test_forty_wrong_api_passwords_then_429_with_retry_after_until_the_back_off_ends(consumer):
    with time_machine.travel(START, tick=False) as traveller:
        refused, last = _forty_wrong_passwords(
            traveller, lambda pw: api_login(consumer.username, pw, "10.22.0.1"), lambda r: r.status_code == 429,
            START)
        assert refused == 35
        right = api_login(consumer.username, PASSWORD, "10.22.0.1")
        assert right.status_code == 429 and right.json()["error"]["code"] == "throttled"
        assert 899 <= int(right["Retry-After"]) <= 900
        traveller.move_to(last + datetime.timedelta(seconds=901))
        ok = api_login(consumer.username, PASSWORD, "10.22.0.1")
        assert ok.status_code == 200 and "access" in ok.json()


@ACCOUNT_ONLY
def test_an_address_the_owner_signed_in_from_is_not_held_by_an_attackers_failures(consumer):
    with time_machine.travel(START, tick=False) as traveller:
        assert api_login(consumer.username, PASSWORD, "10.23.0.7").status_code == 200  # the owner's phone
        _forty_wrong_passwords(traveller, lambda pw: api_login(consumer.username, pw, "10.23.0.66"),
                               lambda r: r.status_code == 429, START)
        assert api_login(consumer.username, PASSWORD, "10.23.0.66").status_code == 429
        assert api_login(consumer.username, PASSWORD, "10.23.0.99").status_code == 429  # a new address waits
        assert api_login(consumer.username, PASSWORD, "10.23.0.7").status_code == 200  # the owner does not
        # the owner's address is still held to failures made from it
        for i in range(5):
            assert api_login(consumer.username, f"typo{i}", "10.23.0.7").status_code == 401
        assert api_login(consumer.username, PASSWORD, "10.23.0.7").status_code == 429


@override_settings(LOGIN_GUARD_ADDRESS_FAILURES=20)
def test_one_address_spraying_many_accounts_is_refused_and_others_are_not():
    victims = [factories.ConsumerFactory() for _ in range(21)]
    admin = factories.AdminFactory()
    for victim in victims[:20]:  # one failure each: no account's back-off starts
        assert api_login(victim.username, "123456", "10.24.0.1").status_code == 401
    refused = api_login(victims[20].username, PASSWORD, "10.24.0.1")
    assert refused.status_code == 429 and "your address" in refused.json()["error"]["message"]
    assert 1 <= int(refused["Retry-After"]) <= 900
    assert "your address" in admin_error(admin_login(Client(), admin.username, PASSWORD, "10.24.0.1"))
    assert api_login(victims[20].username, PASSWORD, "10.24.0.2").status_code == 200
    assert api_login(victims[0].username, PASSWORD, "10.24.0.2").status_code == 200
    assert admin_in(admin_login(Client(), admin.username, PASSWORD, "10.24.0.2"))
    FIGURES["limits"]["limits"] += 1


@override_settings(LOGIN_GUARD_ADDRESS_FAILURES=3, LOGIN_GUARD_ADDRESS_WINDOW_S=1)
def test_the_address_window_ends(consumer):
    import time

    for i in range(3):
        assert api_login(consumer.username + str(i), "x", "10.25.0.1").status_code == 401
    assert api_login(consumer.username, PASSWORD, "10.25.0.1").status_code == 429
    time.sleep(2.1)
    assert api_login(consumer.username, PASSWORD, "10.25.0.1").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_of_wrong_passwords_is_five_guesses():
    user = factories.ConsumerFactory()
    codes, lock = [], threading.Lock()

    def guess(i):
        try:
            code = api_login(user.username, f"burst-{i}", f"10.26.{i}.1").status_code
            with lock:
                codes.append(code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [401] * 5 + [429] * 25
