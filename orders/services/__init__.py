"""Every write of the order domain goes through these functions."""

from .confirmation import order_confirmation_send
from .lifecycle import (
    order_complete,
    order_fail,
    order_lock_for_cancel,
    order_mark_cancelled,
    order_reopen,
    orders_expire_pending,
)
from .payments import payment_charge, payment_confirm, payment_refund
from .placement import LineInput, order_cancel, order_place
from .returns import (
    return_await_parcel,
    return_complete,
    return_receive,
    return_reject,
    return_request,
    return_restock,
)
from .shipments import shipment_create, shipment_mark_delivered
from .stock import stock_release, stock_reserve

__all__ = [
    "LineInput",
    "order_cancel",
    "order_complete",
    "order_confirmation_send",
    "order_fail",
    "order_lock_for_cancel",
    "order_mark_cancelled",
    "order_place",
    "order_reopen",
    "orders_expire_pending",
    "payment_charge",
    "payment_confirm",
    "payment_refund",
    "return_await_parcel",
    "return_complete",
    "return_receive",
    "return_reject",
    "return_request",
    "return_restock",
    "shipment_create",
    "shipment_mark_delivered",
    "stock_release",
    "stock_reserve",
]
