"""How one resource of the covenants API names another."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from covenants.models import Covenant


class CovenantRefSerializer(serializers.ModelSerializer):
    """A covenant named by another resource."""

    class Meta:
        model = Covenant
        fields = ["id", "section", "name"]
        read_only_fields = fields


class UsernameField(serializers.CharField):
    """The username of a portal user, or null (a command-line import)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        user = super().get_attribute(instance)
        return user.get_username() if user is not None else None

    def to_representation(self, value: Any) -> Any:
        return value
