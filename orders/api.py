"""REST API of the order domain: one view per operation, each a thin door to a service."""

import re
import uuid

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator
from rest_framework.views import APIView

from events.fields import (
    StrictCharField,
    StrictDecimalField,
    StrictIntegerField,
    StrictRegexField,
)
from events.serializers import EnvelopeSerializer, WorkflowRunSerializer

from . import gateway, selectors, services
from .conf import orders_settings
from .gateway import TEST_TOKENS, CallbackStatus
from .models import Order, OrderLine, Product, Return, SalesDay
from .services.exceptions import UnknownCharge

# A SKU is part of a product's URL (/api/products/{sku}/): only characters that the URL
# routing carries as they are.
SKU_PATTERN = r"^[A-Za-z0-9_-]+$"
SKU_CHARACTERS = "A SKU holds only letters, digits, '-' and '_' (it is part of the URL)."
# The Idempotency-Key header is stored as it is given: printable ASCII, at most 255 long.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_INVALID = (
    f"The Idempotency-Key header must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII "
    "characters; a longer or other key could not be stored as given."
)
CONFLICT = "The order's state does not allow this now."
SKU_TAKEN = OpenApiResponse(description="Another product has this SKU.")


class ProductSerializer(serializers.ModelSerializer):
    sku = StrictRegexField(
        SKU_PATTERN,
        max_length=64,
        error_messages={"invalid": SKU_CHARACTERS},
        validators=[UniqueValidator(queryset=Product.objects.all())],
    )
    name = StrictCharField(max_length=200)
    price = StrictDecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = StrictIntegerField(min_value=0, max_value=2_147_483_647)

    class Meta:
        model = Product
        fields = ["sku", "name", "price", "stock"]


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(
            request.user and request.user.is_staff
        )


@extend_schema_view(
    create=extend_schema(responses={201: ProductSerializer, 409: SKU_TAKEN}),
    update=extend_schema(responses={200: ProductSerializer, 409: SKU_TAKEN}),
    partial_update=extend_schema(responses={200: ProductSerializer, 409: SKU_TAKEN}),
)
class ProductViewSet(viewsets.ModelViewSet):
    """The catalog: anyone reads it, staff change it."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductSerializer
    lookup_field = "sku"
    lookup_value_regex = SKU_PATTERN.strip("^$")
    filterset_fields = ["sku"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.product_list()


class OrderLineOutputSerializer(serializers.ModelSerializer):
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "subtotal"]


class OrderOutputSerializer(serializers.ModelSerializer):
    lines = OrderLineOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "status", "failure_reason", "lines", "total", "created_at", "updated_at"]


class OrderLineInputSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built per request: the limit follows the ORDERS setting as it is now.
        return {
            **super().get_fields(),
            "quantity": StrictIntegerField(min_value=1, max_value=orders_settings.MAX_QUANTITY),
        }


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    correlation_id = django_filters.UUIDFilter(
        method="in_flow", help_text="Only the orders of this flow (a request's X-Request-ID)."
    )

    def in_flow(self, orders: QuerySet[Order], name: str, value: uuid.UUID) -> QuerySet[Order]:
        return orders.filter(pk__in=selectors.order_ids_in_flow(correlation_id=value))

    class Meta:
        model = Order
        fields = ["status"]


def idempotency_key(request: Request) -> str:
    """The request's ``Idempotency-Key`` as given (empty when absent), or a 400."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return ""
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise ValidationError({"Idempotency-Key": [IDEMPOTENCY_KEY_INVALID]})
    return key


class OrderListApi(generics.GenericAPIView):
    filterset_class = OrderFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # the schema is made with no user
            return Order.objects.none()
        return selectors.order_list(user=self.request.user)

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        """What OPTIONS describes: the body that places an order."""
        return self.InputSerializer

    class InputSerializer(serializers.Serializer):
        payment_token = serializers.ChoiceField(choices=TEST_TOKENS)

        def get_fields(self) -> dict[str, serializers.Field]:
            # Built per request: the limit follows the ORDERS setting as it is now.
            lines = OrderLineInputSerializer(
                many=True, allow_empty=False, max_length=orders_settings.MAX_LINES
            )
            return {"lines": lines, **super().get_fields()}

        def validate_lines(self, lines: list[dict]) -> list[dict]:
            skus = [line["sku"] for line in lines]
            if len(skus) != len(set(skus)):
                raise serializers.ValidationError("Each SKU may appear on one line only.")
            return lines

    @extend_schema(responses=OrderOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your orders (all orders, for staff), newest first."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OrderOutputSerializer,
            409: OpenApiResponse(description="The Idempotency-Key was used for another order."),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    "pattern": IDEMPOTENCY_KEY_PATTERN,
                },
                OpenApiParameter.HEADER,
                description="Repeat a request safely: the same key returns the same order.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Place an order. Fulfillment starts in the background."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order, created = services.order_place(
            customer=request.user,
            lines=[services.LineInput(**line) for line in data["lines"]],
            payment_token=data["payment_token"],
            idempotency_key=idempotency_key(request),
        )
        headers = {} if created else {"Idempotent-Replayed": "true"}
        order = selectors.order_get(user=request.user, order_id=order.pk)
        return Response(
            OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers
        )


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: OrderOutputSerializer, 409: OpenApiResponse(description=CONFLICT)},
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Cancel while pending, reserved or paid (a paid order is refunded); 409 later."""
        order = selectors.order_get(user=request.user, order_id=order_id)
        services.order_cancel(order=order)
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(OrderOutputSerializer(order).data)


class OrderEventsApi(APIView):
    @extend_schema(responses=EnvelopeSerializer(many=True))
    def get(self, request: Request, order_id: int) -> Response:
        """The order's event timeline, in sequence order."""
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(EnvelopeSerializer(selectors.order_events(order=order), many=True).data)


class OrderWorkflowApi(APIView):
    @extend_schema(responses=WorkflowRunSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        """The order's fulfillment run and its steps."""
        order = selectors.order_get(user=request.user, order_id=order_id)
        run = selectors.order_workflow(order=order)
        if run is None:
            raise NotFound("Fulfillment has not started for this order yet.")
        return Response(WorkflowRunSerializer(run).data)


class SalesDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesDay
        fields = ["day", "sku", "units", "revenue", "orders"]


class SalesReportApi(generics.ListAPIView):
    """Units and revenue per day and product (staff; a read model built from events)."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = SalesDaySerializer
    filterset_fields = {"day": ["exact", "gte", "lte"], "sku": ["exact"]}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.sales_by_day()


class PaymentCallbackApi(APIView):
    """The payment gateway confirms (or fails) a pending charge. Signed, not logged in."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class InputSerializer(serializers.Serializer):
        charge_id = StrictCharField(max_length=64)
        status = serializers.ChoiceField(choices=[outcome.value for outcome in CallbackStatus])
        reason = StrictCharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={200: OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                gateway.SIGNATURE_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body with the shared secret>",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if not gateway.signature_valid(
            request.body, request.headers.get(gateway.SIGNATURE_HEADER, "")
        ):
            raise PermissionDenied("Invalid or missing gateway signature.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            payment = services.payment_confirm(
                charge_id=data["charge_id"],
                succeeded=data["status"] == CallbackStatus.SUCCEEDED,
                reason=data.get("reason", ""),
            )
        except UnknownCharge as exc:
            raise NotFound(str(exc)) from exc
        return Response({"charge_id": payment.charge_id, "payment_status": payment.status})


class ReturnOutputSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "order_id",
            "status",
            "reason",
            "failure_reason",
            "requested_at",
            "received_at",
            "completed_at",
        ]


class OrderReturnApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: ReturnOutputSerializer, 409: OpenApiResponse(description=CONFLICT)},
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Send a fulfilled order back: once the parcel arrives it is restocked and refunded."""
        order = selectors.order_get(user=request.user, order_id=order_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ret = services.return_request(
            order=order, reason=serializer.validated_data.get("reason", "")
        )
        return Response(ReturnOutputSerializer(ret).data, status=status.HTTP_201_CREATED)


class ReturnViewSet(viewsets.ReadOnlyModelViewSet):
    """Returns: customers see their own; staff see all and confirm received parcels."""

    serializer_class = ReturnOutputSerializer
    filterset_fields = ["status"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # the schema is made with no user
            return Return.objects.none()
        return selectors.return_list(user=self.request.user)

    @extend_schema(
        request=None,
        responses={200: ReturnOutputSerializer, 409: OpenApiResponse(description=CONFLICT)},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        """The warehouse received the parcel: restocking and refund go ahead."""
        ret = services.return_receive(ret=self.get_object())
        return Response(ReturnOutputSerializer(ret).data)
