"""The operations console of the engine: events, outbox, deliveries and workflow runs.

One module per area, like ``events.models``. The read-only bases and link helpers in
``base`` are shared with the domain apps' admins, and importable from here.
"""

from . import bridges, delivery, store, workflows
from .base import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    admin_url,
    change_link,
    changelist_link,
    format_duration,
    pre,
    pretty_json,
    subject_link,
    task_link,
)

__all__ = [
    "EMPTY",
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "act_on_each",
    "admin_url",
    "bridges",
    "change_link",
    "changelist_link",
    "delivery",
    "format_duration",
    "pre",
    "pretty_json",
    "store",
    "subject_link",
    "task_link",
    "workflows",
]
