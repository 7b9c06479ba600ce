"""Input and output of the API-keys endpoints."""

from __future__ import annotations

from rest_framework import serializers

from config.scopes import SCOPES
from integrations.models import ApiKey
from integrations.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, MAX_GRACE_HOURS


class ApiKeyCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SCOPES)),
        allow_empty=False,
        min_length=1,
        max_length=len(SCOPES),
    )
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=MAX_EXPIRY_DAYS, default=DEFAULT_EXPIRY_DAYS
    )


class ApiKeyRotateInputSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        default=0,
        help_text="How long the old key keeps working, 0 to 24 hours.",
    )


class ApiKeyOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True, help_text="The key's public id.")
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    status = serializers.ChoiceField(choices=ApiKey.Status.choices, read_only=True)
    rotated_from = serializers.SerializerMethodField(help_text="The id of the key this one replaced.")
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ApiKey
        fields: tuple[str, ...] = (
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "created_at",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "grace_expires_at",
            "rotated_from",
        )
        read_only_fields = fields

    def get_rotated_from(self, obj: ApiKey) -> str | None:
        return obj.rotated_from.public_id if obj.rotated_from else None


class ApiKeyIssuedOutputSerializer(ApiKeyOutputSerializer):
    key = serializers.SerializerMethodField(help_text="The full key. Shown this once only.")

    class Meta(ApiKeyOutputSerializer.Meta):
        fields = (*ApiKeyOutputSerializer.Meta.fields, "key")
        read_only_fields = fields

    def get_key(self, obj: ApiKey) -> str:
        return str(self.context["token"])
