"""Event types of the order domain: one registry, read by validation, upcasting and the API."""

from events.types import register

ORDER = "order"

_line = {
    "type": "object",
    "required": ["sku", "quantity"],
    "properties": {
        "sku": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": {"type": "string"},
    },
}
_lines = {"type": "array", "items": _line, "minItems": 1}


def _schema(required: dict, optional: dict | None = None) -> dict:
    return {
        "type": "object",
        "required": ["order_id", *required],
        "properties": {"order_id": {"type": "integer"}, **required, **(optional or {})},
    }


register(
    "order.placed",
    aggregate_type=ORDER,
    description="A customer placed an order (version 1: no currency).",
    schema=_schema(
        {"customer_id": {"type": "integer"}, "lines": _lines, "total": {"type": "string"}}
    ),
)
register(
    "order.placed",
    version=2,
    aggregate_type=ORDER,
    description="A customer placed an order; the total carries its currency.",
    schema=_schema(
        {
            "customer_id": {"type": "integer"},
            "lines": _lines,
            "total": {"type": "string"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        }
    ),
    upcast_from_previous=lambda payload: {**payload, "currency": "EUR"},
)
register(
    "stock.reserved",
    aggregate_type=ORDER,
    description="The order's units were taken off stock.",
    schema=_schema({"lines": _lines}),
)
register(
    "stock.released",
    aggregate_type=ORDER,
    description="The order's reserved units went back on stock.",
    schema=_schema({"lines": _lines, "reason": {"type": "string"}}),
)
register(
    "payment.captured",
    aggregate_type=ORDER,
    description="The order's payment was taken.",
    schema=_schema({"amount": {"type": "string"}, "charge_id": {"type": "string"}}),
)
register(
    "payment.declined",
    aggregate_type=ORDER,
    description="The gateway declined the order's payment.",
    schema=_schema({"amount": {"type": "string"}, "reason": {"type": "string"}}),
)
register(
    "payment.refunded",
    aggregate_type=ORDER,
    description="The order's payment was given back (customer_id: whom, in events since it "
    "was added).",
    schema=_schema(
        {"amount": {"type": "string"}, "charge_id": {"type": "string"}},
        {"customer_id": {"type": "integer"}},
    ),
)
register(
    "shipment.created",
    aggregate_type=ORDER,
    description="A shipment was booked with a carrier.",
    schema=_schema(
        {
            "shipment_id": {"type": "integer"},
            "carrier": {"type": "string"},
            "tracking_number": {"type": "string"},
        }
    ),
)
register(
    "shipment.delivered",
    aggregate_type=ORDER,
    description="The carrier delivered the parcel (sent in by the carrier or the warehouse, "
    "e.g. over Kafka): a shipped order is fulfilled.",
    schema=_schema(
        {},
        {"tracking_number": {"type": "string"}, "delivered_at": {"type": "string"}},
    ),
)
register(
    "order.fulfilled",
    aggregate_type=ORDER,
    description="The order was paid, shipped and confirmed; what was sold, for how much.",
    schema=_schema(
        {"customer_id": {"type": "integer"}, "lines": _lines, "total": {"type": "string"}}
    ),
)
register(
    "order.cancelled",
    aggregate_type=ORDER,
    description="The order was cancelled; what it held was given back.",
    schema=_schema({"customer_id": {"type": "integer"}, "reason": {"type": "string"}}),
)
register(
    "order.failed",
    aggregate_type=ORDER,
    description="Fulfillment gave up; failure_reason says why.",
    schema=_schema({"customer_id": {"type": "integer"}, "reason": {"type": "string"}}),
)
register(
    "order.reopened",
    aggregate_type=ORDER,
    description="A failed order went back into fulfillment (an operator retried its run).",
    schema=_schema({"customer_id": {"type": "integer"}}),
)
register(
    "return.requested",
    aggregate_type=ORDER,
    description="The customer asked to send the order back.",
    schema=_schema({"return_id": {"type": "integer"}, "reason": {"type": "string"}}),
)
register(
    "return.received",
    aggregate_type=ORDER,
    description="The warehouse received the returned parcel.",
    schema=_schema({"return_id": {"type": "integer"}}),
)
register(
    "stock.restocked",
    aggregate_type=ORDER,
    description="Returned units went back on stock.",
    schema=_schema({"return_id": {"type": "integer"}, "lines": _lines}),
)
register(
    "return.completed",
    aggregate_type=ORDER,
    description="The return was restocked and refunded.",
    schema=_schema({"return_id": {"type": "integer"}, "customer_id": {"type": "integer"}}),
)
register(
    "return.rejected",
    aggregate_type=ORDER,
    description="The return was refused or the parcel never came.",
    schema=_schema({"return_id": {"type": "integer"}, "reason": {"type": "string"}}),
)
