"""The operations console of the order domain.

The catalog is edited here; orders and what hangs off them are written by services only,
so their admins are view-only and cancelling goes through ``order_cancel``. The
notifications' admin is replaced by one that links each notification to its order.
"""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from events.admin import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    admin_url,
    change_link,
    changelist_link,
)
from events.models import Event, StepRun, WorkflowRun
from notifications.admin import NotificationAdmin
from notifications.models import Notification
from project.errors import ApplicationError

from .models import (
    Order,
    OrderLine,
    Payment,
    Product,
    Return,
    SalesDay,
    Shipment,
)
from .selectors import order_ids_in_flow
from .services import order_cancel
from .services.locks import FULFILLMENT


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "stock", "updated_at"]
    list_editable = ["price", "stock"]
    search_fields = ["sku", "name"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "price", "stock"]}),
        ("Timestamps", {"fields": ["created_at", "updated_at"]}),
    ]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product_link", "sku", "name", "unit_price", "quantity", "subtotal"]
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product")

    @admin.display(description="product")
    def product_link(self, obj: OrderLine) -> str:
        return change_link(obj.product, obj.product.sku)

    @admin.display(description="subtotal")
    def subtotal(self, obj: OrderLine) -> Any:
        return obj.subtotal


def _fulfillment_runs() -> QuerySet[WorkflowRun]:
    return WorkflowRun.objects.filter(workflow=FULFILLMENT)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer",
        "status",
        "failure_reason",
        "total",
        "holds_stock",
        "run_status",
        "events",
        "created_at",
    ]
    list_filter = ["status", "failure_reason", "holds_stock", "created_at"]
    search_fields = ["id__exact", "customer__username", "customer__email", "=idempotency_key"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    fieldsets = [
        (None, {"fields": ["id", "customer_link", "status", "failure_reason", "total"]}),
        ("Fulfillment", {"fields": ["holds_stock", "payment_link", "shipment_link"]}),
        ("Engine", {"fields": ["events", "workflow"]}),
        ("Request", {"fields": ["payment_token", "idempotency_key", "request_fingerprint"]}),
        ("Timestamps", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [OrderLineInline]
    actions = ["cancel"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        """A correlation id (a request's X-Request-ID) finds the orders of that flow too."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            correlation_id = uuid.UUID(search_term.strip())
        except ValueError:
            return found, may_have_duplicates
        in_flow = queryset.filter(pk__in=order_ids_in_flow(correlation_id=correlation_id))
        return found | in_flow, may_have_duplicates

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        run = _fulfillment_runs().filter(subject_id=Cast(OuterRef("pk"), CharField()))
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "payment", "shipment")
            .annotate(run_status=Subquery(run.values("status")[:1]))
        )

    @admin.display(description="workflow", ordering="run_status")
    def run_status(self, obj: Order) -> str:
        if not obj.run_status:
            return EMPTY
        return changelist_link(
            WorkflowRun, obj.run_status, workflow=FULFILLMENT, subject_id=str(obj.pk)
        )

    @admin.display(description="events")
    def events(self, obj: Order) -> str:
        return changelist_link(Event, "events", aggregate_type="order", aggregate_id=obj.pk)

    @admin.display(description="customer")
    def customer_link(self, obj: Order) -> str:
        return change_link(obj.customer)

    @admin.display(description="payment")
    def payment_link(self, obj: Order) -> str:
        return change_link(getattr(obj, "payment", None))

    @admin.display(description="shipment")
    def shipment_link(self, obj: Order) -> str:
        return change_link(getattr(obj, "shipment", None))

    @admin.display(description="workflow run")
    def workflow(self, obj: Order) -> str:
        run = _fulfillment_runs().filter(subject_id=str(obj.pk)).first()
        if run is None:
            return EMPTY
        steps = format_html_join(
            "",
            "<li>{}: {}{}</li>",
            (
                (step.name, step.status, f" ({step.error})" if step.error else "")
                for step in StepRun.objects.filter(run=run)
            ),
        )
        return format_html(
            "{} &middot; {}<ul>{}</ul>",
            change_link(run, f"{run.workflow} ({run.status})"),
            changelist_link(StepRun, "steps", run=run.pk),
            steps,
        )

    @admin.action(description="Cancel selected orders", permissions=["operate"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda order: order_cancel(order=order, reason=Order.CancelReason.OPERATOR_REQUEST),
            refused=ApplicationError,
            done="Cancelled {} order(s).",
            why=lambda order, exc: f"order {order.pk}: {exc.message}",
        )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_link", "amount", "status", "charge", "created_at", "refunded_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=charge_id", "order__id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["order"]
    fields = [
        "order_link",
        "amount",
        "status",
        "charge",
        "decline_reason",
        "created_at",
        "refunded_at",
    ]

    @admin.display(description="order", ordering="order")
    def order_link(self, obj: Payment) -> str:
        return change_link(obj.order)

    @admin.display(description="charge id", ordering="charge_id")
    def charge(self, obj: Payment) -> str:
        if not obj.charge_id:
            return EMPTY
        # The provider's own record of the charge, in its sandbox.
        url = f"{settings.SANDBOX_URL}/v1/charges/{obj.charge_id}"
        return format_html('<a href="{}">{}</a>', url, obj.charge_id)


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ["tracking_number", "carrier", "order_link", "created_at"]
    list_filter = ["carrier", "created_at"]
    search_fields = ["=tracking_number", "order__id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["order"]
    fields = ["order_link", "carrier", "tracking_number", "created_at"]

    @admin.display(description="order", ordering="order")
    def order_link(self, obj: Shipment) -> str:
        return change_link(obj.order)


@admin.register(SalesDay)
class SalesDayAdmin(ReadOnlyAdmin):
    """A read model: rebuilt with ``manage.py events rebuild orders.sales_by_day``."""

    list_display = ["day", "sku", "units", "revenue", "orders"]
    list_filter = ["day"]
    search_fields = ["sku"]
    date_hierarchy = "day"


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "status", "failure_reason", "requested_at", "completed_at"]
    list_filter = ["status", "requested_at"]
    search_fields = ["=order__id", "reason"]
    date_hierarchy = "requested_at"
    list_select_related = ["order"]


admin.site.unregister(Notification)


@admin.register(Notification)
class OrderNotificationAdmin(NotificationAdmin):
    """Notifications, each linked to the order it is about.

    The notifications app sits below orders and never imports it, so its own admin shows
    the order's bare id; this app, which knows orders, registers this subclass in its place.
    """

    @admin.display(description="order", ordering="order_id")
    def order(self, obj: Notification) -> str:
        if obj.order_id is None:
            return EMPTY
        url = admin_url(Order, "change", obj.order_id)
        return format_html('<a href="{}">{}</a>', url, obj.order_id)
