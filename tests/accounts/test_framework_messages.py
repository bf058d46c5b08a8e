"""The framework's own messages (simplejwt's token errors, Django's password validators) come back in
the caller's language, like ours: zh-hans by default, English when asked."""

import re

import pytest

pytestmark = pytest.mark.django_db

LATIN = re.compile(r"[A-Za-z]{3,}")


def _messages(response) -> list[str]:
    error = response.json()["error"]
    return [error["message"], *(m for ms in (error.get("fields") or {}).values() for m in ms)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_password_and_token_errors_are_in_one_language(api_client, language):
    weak = api_client.post("/api/auth/register", {"username": "newbie", "password": "123", "role": "consumer"},
                           format="json", HTTP_ACCEPT_LANGUAGE=language)
    bad_token = api_client.get("/api/me", HTTP_AUTHORIZATION="Bearer not-a-token", HTTP_ACCEPT_LANGUAGE=language)
    assert weak.status_code == 400 and bad_token.status_code == 401
    messages = _messages(weak) + _messages(bad_token)
    assert len(messages) >= 4  # the envelope's, three validators', the token's
    if language == "zh-hans":
        assert [m for m in messages if LATIN.search(m)] == []
        assert any("8" in m and "密码" in m for m in messages)  # the minimum-length validator's
    else:
        assert [m for m in messages if re.search(r"[\u4e00-\u9fff]", m)] == []
        assert "Token is invalid or expired" in messages
