"""Every write of the order domain goes through these functions."""

from .fulfillment import (
    order_complete,
    order_fail,
    order_lock_for_cancel,
    order_mark_cancelled,
    order_reopen,
    orders_expire_pending,
    payment_charge,
    payment_confirm,
    payment_refund,
    shipment_create,
    stock_release,
    stock_reserve,
)
from .placement import LineInput, order_cancel, order_place
from .returns import (
    return_await_parcel,
    return_complete,
    return_receive,
    return_reject,
    return_request,
    return_restock,
)

__all__ = [
    "LineInput",
    "order_cancel",
    "order_complete",
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
    "stock_release",
    "stock_reserve",
]
