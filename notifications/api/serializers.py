from rest_framework import serializers

from notifications.services import NotificationKind
from prime_now.kernel.api.serializers import StrictInput


class NotificationListInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    before = serializers.IntegerField(
        min_value=1, required=False, help_text="The last id of the previous page."
    )


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    order_number = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationListOutput(serializers.Serializer):
    results = NotificationOutput(many=True)
    next_before = serializers.IntegerField(allow_null=True)
    unread = serializers.IntegerField()


class MarkReadInput(StrictInput):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        default=None,
        max_length=500,
        help_text="Leave out to mark every notification read.",
    )


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class PreferenceSerializer(StrictInput):
    email = serializers.BooleanField()
    email_muted = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationKind.choices),
        required=False,
        default=list,
        max_length=len(NotificationKind.choices),
        help_text="Kinds not wanted by email (the in-app list always has everything).",
    )
