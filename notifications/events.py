"""Event types of the notifications app."""

from events.types import register

register(
    "webhook.test",
    aggregate_type="webhook_subscription",
    description="A test delivery an operator asked for; sent only to the subscription named.",
    schema={
        "type": "object",
        "required": ["subscription_id"],
        "properties": {
            "subscription_id": {"type": "integer"},
            "requested_by": {"type": "string"},
        },
        "additionalProperties": False,
    },
)
