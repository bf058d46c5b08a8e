import json

import pytest

from notifications.models import Preference


@pytest.fixture
def sms_spool(settings, tmp_path):
    """Send SMS to a file; returns a reader giving the JSON lines written so far."""
    path = tmp_path / "sms.jsonl"
    settings.NOTIFICATIONS_SMS = {"BACKEND": "notifications.sms.FileSmsSender", "OPTIONS": {"path": str(path)}}
    settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS = ""

    def read() -> list[dict]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    read.path = path
    return read


@pytest.fixture
def no_quiet_hours():
    def make(user):
        return Preference.objects.update_or_create(user=user, defaults={"quiet_hours_enabled": False})[0]

    return make
