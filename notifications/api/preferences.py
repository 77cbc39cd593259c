"""Each user's notification preferences: every kind they may get, each channel on or off.

``GET /api/notification-preferences/`` answers ``{"order_fulfilled": {"email": true,
"in_app": true}, ...}``. ``PUT`` sets every kind customers get (and the staff alerts, for
staff, when given); ``PATCH`` only those given, e.g. ``{"order_fulfilled": {"email":
false}}``. An unknown kind or channel is a 400 that names it; a customer who names a
staff alert gets a 403.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.fields import StrictBooleanField

from ..models import CUSTOMER_KINDS, Notification
from ..services import notification_kinds_for, notification_preferences_get
from ..services import notification_preferences_update as update
from ..services.preferences import UNKNOWN_CHANNEL, UNKNOWN_KIND

STAFF_ALERTS = "Only staff choose how they get staff alerts ({kinds})."


class _RejectUnknownKeys(serializers.Serializer):
    """A serializer that refuses keys it does not know instead of ignoring them."""

    unknown_key = "Unknown key."
    rejects_unknown_keys = True  # the schema says so: additionalProperties is false

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {key: [self.unknown_key] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**unknown, **exc.detail}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class ChannelsSerializer(_RejectUnknownKeys):
    unknown_key = UNKNOWN_CHANNEL
    email = StrictBooleanField(help_text="Send this kind by email.")
    in_app = StrictBooleanField(help_text="Show this kind in the app.")


class PreferencesSerializer(_RejectUnknownKeys):
    """One entry per kind (the kinds the user may get), each with its channels."""

    unknown_key = UNKNOWN_KIND

    def get_fields(self) -> dict[str, serializers.Field]:
        kinds = self.context.get("kinds", Notification.Kind.values)
        labels = dict(Notification.Kind.choices)
        return {
            # Staff alerts are staff's only, so optional: a customer never sees them.
            # Partial with its parent (PATCH): the schema then shows its channels optional.
            kind: ChannelsSerializer(
                help_text=labels[kind], required=kind in CUSTOMER_KINDS, partial=self.partial
            )
            for kind in kinds
        }


class NotificationPreferencesApi(APIView):
    """The signed-in user's preferences: which kinds to get, by email and in the app."""

    serializer_class = PreferencesSerializer

    def _serializer(self, request: Request, **kwargs: Any) -> PreferencesSerializer:
        kinds = notification_kinds_for(user=request.user)
        return PreferencesSerializer(context={"kinds": kinds}, **kwargs)

    def get(self, request: Request) -> Response:
        preferences = notification_preferences_get(user=request.user)
        return Response(self._serializer(request, instance=preferences).data)

    def put(self, request: Request) -> Response:
        return self._change(request, partial=False)

    def patch(self, request: Request) -> Response:
        return self._change(request, partial=True)

    def _change(self, request: Request, *, partial: bool) -> Response:
        if isinstance(request.data, Mapping):
            allowed = notification_kinds_for(user=request.user)
            staff_only = sorted(set(request.data) & set(Notification.Kind.values) - set(allowed))
            if staff_only:
                raise PermissionDenied(STAFF_ALERTS.format(kinds=", ".join(staff_only)))
        serializer = self._serializer(request, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        preferences = update(user=request.user, changes=serializer.validated_data)
        return Response(self._serializer(request, instance=preferences).data)
