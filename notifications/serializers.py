from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Notification, Preference


class NotificationOutput(serializers.ModelSerializer):
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "params", "read", "read_at", "created_at"]


class NotificationListFilter(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text=_("true: only unread; false: only read."))


class ReadAllOutput(serializers.Serializer):
    updated = serializers.IntegerField()
    unread_count = serializers.IntegerField()


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "22:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time in the platform's time zone, "HH:MM" (no date, no offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class PreferenceSerializer(serializers.ModelSerializer):
    quiet_start = ClockTimeField(required=False)
    quiet_end = ClockTimeField(required=False)

    class Meta:
        model = Preference
        fields = ["sms_enabled", "quiet_hours_enabled", "quiet_start", "quiet_end"]

    def validate(self, attrs):
        start = attrs.get("quiet_start", getattr(self.instance, "quiet_start", None))
        end = attrs.get("quiet_end", getattr(self.instance, "quiet_end", None))
        if start is not None and start == end:
            raise serializers.ValidationError({"quiet_end": [_("Quiet hours must end at another time than they start.")]})
        return attrs
