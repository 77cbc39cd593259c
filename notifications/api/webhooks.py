"""Staff API of webhooks: subscriptions, their deliveries with attempts, tests, redelivery.

The secret is in the creation answer only. Every rule (a valid public URL, declared event
types, what may be sent again) is the services'; bad input answers 400 with field errors.
"""

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from events.fields import StrictBooleanField, StrictCharField

from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from ..services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_update,
    webhook_test_send,
)

SUBSCRIPTION_FIELDS = [
    "id",
    "url",
    "event_types",
    "description",
    "is_active",
    "ordered",
    "consecutive_failures",
    "failing_since",
    "disabled_at",
    "disabled_reason",
    "created_at",
]


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookSubscription
        fields = SUBSCRIPTION_FIELDS
        read_only_fields = SUBSCRIPTION_FIELDS


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The creation answer: the only one that shows the signing secret."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*SUBSCRIPTION_FIELDS, "secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    # The URL is checked by the service (a valid http(s) URL to a public address).
    url = StrictCharField(max_length=2000)
    event_types = serializers.ListField(
        child=StrictCharField(max_length=100), required=False, help_text="Empty for every type."
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    ordered = StrictBooleanField(required=False)
    is_active = StrictBooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_excerpt",
        ]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.UUIDField(source="event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "webhook_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "updated_at",
            "delivered_at",
            "attempt_log",
        ]


DISABLED = OpenApiResponse(description="The subscription is disabled.")
NOT_NOW = OpenApiResponse(description="The delivery is disabled, waiting, or on its way.")


class DeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["status"]


def deliveries_with_attempts():  # type: ignore[no-untyped-def]
    return WebhookDelivery.objects.select_related("event").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions (staff only)."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.all()
    filterset_fields = ["is_active", "ordered"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        """Subscribe a URL; the answer shows the signing secret, this once."""
        data = self._input(request, partial=False)
        data.pop("is_active", None)
        subscription = webhook_subscription_create(**data)
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=WebhookSubscriptionInputSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        """Change the URL, event types, description, order or active flag."""
        subscription = webhook_subscription_update(
            subscription=self.get_object(),
            by=request.user.get_username(),
            **self._input(request, partial=True),
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    def _input(self, request: Request, *, partial: bool) -> dict:
        serializer = WebhookSubscriptionInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        responses=WebhookDeliverySerializer(many=True),
        parameters=[OpenApiParameter("status", str, enum=WebhookDelivery.Status.values)],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The subscription's deliveries, newest first, each with its attempts."""
        wanted = DeliveryFilter(
            request.query_params,
            queryset=deliveries_with_attempts().filter(subscription=self.get_object()),
        )
        if not wanted.is_valid():
            raise ValidationError(wanted.errors)
        deliveries = wanted.qs
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, 409: DISABLED})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a ``webhook.test`` event to this subscription."""
        delivery = webhook_test_send(
            subscription=self.get_object(), requested_by=request.user.get_username()
        )
        return Response(
            WebhookDeliverySerializer(deliveries_with_attempts().get(pk=delivery.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class WebhookDeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One webhook delivery with its attempts (staff only)."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return deliveries_with_attempts()

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        """Send the delivery again now, with the same ``webhook-id``."""
        delivery = webhook_delivery_redeliver(delivery=self.get_object())
        return Response(
            WebhookDeliverySerializer(deliveries_with_attempts().get(pk=delivery.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )
