"""Catalog, orders, payments and shipments."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True, help_text="Stock keeping unit.")
    name = models.CharField(max_length=200, help_text="Display name.")
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="Unit price.",
    )
    stock = models.PositiveIntegerField(default=0, help_text="Units on hand, not reserved.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RESERVED = "reserved", "Stock reserved"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class FailureReason(models.TextChoices):
        OUT_OF_STOCK = "out_of_stock", "Out of stock"
        PAYMENT_DECLINED = "payment_declined", "Payment declined"
        PAYMENT_UNAVAILABLE = "payment_unavailable", "Payment gateway unavailable"
        EXPIRED = "expired", "Expired while pending"
        PAYMENT_TIMEOUT = "payment_timeout", "Payment not confirmed in time"
        FULFILLMENT_ERROR = "fulfillment_error", "Fulfillment error"

    class CancelReason(models.TextChoices):
        """Who asked for a cancel, as ``order.cancelled`` tells it."""

        CUSTOMER_REQUEST = "customer_request", "Asked by the customer"
        OPERATOR_REQUEST = "operator_request", "Asked by an operator"

    class StockReleaseReason(models.TextChoices):
        """Why reserved units went back on stock, as ``stock.released`` tells it."""

        COMPENSATION = "compensation", "Fulfillment was undone"

    CANCELLABLE = (Status.PENDING, Status.RESERVED, Status.PAID)
    TERMINAL = (Status.FULFILLED, Status.CANCELLED, Status.FAILED)

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(
        max_length=40, choices=FailureReason.choices, blank=True, help_text="Why it failed."
    )
    total = models.DecimalField(max_digits=12, decimal_places=2)
    payment_token = models.CharField(max_length=64, help_text="Token from the payment form.")
    holds_stock = models.BooleanField(
        default=False, help_text="Whether its lines' units are reserved (taken off stock)."
    )
    idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="Client's Idempotency-Key; repeats return this."
    )
    request_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Hash of the placing request, to spot key reuse."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="orders_order_unique_idempotency_key",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="orders_order_status_idx")]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64, help_text="SKU at the time of the order.")
    name = models.CharField(max_length=200, help_text="Name at the time of the order.")
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending (awaiting the gateway's confirmation)"
        CAPTURED = "captured", "Captured"
        DECLINED = "declined", "Declined"
        REFUNDED = "refunded", "Refunded"
        VOIDED = "voided", "Voided before confirmation"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices)
    charge_id = models.CharField(max_length=64, blank=True, help_text="Gateway's charge id.")
    decline_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Payment {self.amount} for order {self.order_id} ({self.status})"


class Shipment(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    carrier = models.CharField(max_length=50)
    tracking_number = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class SalesDay(models.Model):
    """Read model: units sold and revenue per day and product, built from order.fulfilled."""

    day = models.DateField()
    sku = models.CharField(max_length=64)
    units = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    orders = models.PositiveIntegerField(default=0, help_text="Orders with this product.")

    class Meta:
        ordering = ["-day", "sku"]
        verbose_name = "sales per day"
        verbose_name_plural = "sales per day"
        constraints = [
            models.UniqueConstraint(fields=["day", "sku"], name="orders_salesday_unique_day_sku")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.sku}: {self.units} units, {self.revenue}"


class Return(models.Model):
    """A customer sends a fulfilled order back; the returns workflow restocks and refunds."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        AWAITING_PARCEL = "awaiting_parcel", "Awaiting the parcel"
        RECEIVED = "received", "Parcel received"
        COMPLETED = "completed", "Restocked and refunded"
        REJECTED = "rejected", "Rejected"

    class FailureReason(models.TextChoices):
        """Why the return workflow rejected it, beside the engine's own reasons."""

        PARCEL_NOT_RECEIVED = "parcel_not_received", "The parcel never came"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="return_request")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=200, blank=True, help_text="The customer's reason.")
    failure_reason = models.CharField(max_length=50, blank=True, help_text="Why it was rejected.")
    requested_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Return of order {self.order_id} ({self.status})"
