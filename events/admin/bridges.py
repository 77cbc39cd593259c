"""The bridges to outside brokers: where each outbound one stands (pause, resume), what
came in, and what came in and was refused."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ..bridges import config
from ..bridges.checkpoint import bridge_pause, bridge_resume
from ..bridges.selectors import bridge_lag
from ..models import BridgeCheckpoint, InboundDeadLetter, InboundEvent
from .base import EMPTY, ReadOnlyAdmin, change_link, pre, pretty_json


@admin.register(BridgeCheckpoint)
class BridgeCheckpointAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "transport",
        "paused",
        "lag",
        "position",
        "published",
        "last_published_at",
        "last_error",
    ]
    list_filter = ["paused"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "transport", "paused", "lag"]}),
        ("Checkpoint", {"fields": ["position", "gaps", "published", "last_published_at"]}),
        ("Errors", {"fields": ["last_error", "updated_at"]}),
    ]
    actions = ["pause", "resume"]

    def _config(self, obj: BridgeCheckpoint) -> config.BridgeConfig | None:
        try:
            return config.get(obj.name)
        except LookupError:
            return None

    @admin.display(description="transport")
    def transport(self, obj: BridgeCheckpoint) -> str:
        bridge = self._config(obj)
        return bridge.transport if bridge else "not configured"

    @admin.display(description="lag (events behind)")
    def lag(self, obj: BridgeCheckpoint) -> int | str:
        bridge = self._config(obj)
        return bridge_lag(bridge=bridge, position=obj.position) if bridge else EMPTY

    @admin.action(description="Pause selected bridges", permissions=["operate"])
    def pause(self, request: HttpRequest, queryset: QuerySet[BridgeCheckpoint]) -> None:
        names = list(queryset.values_list("name", flat=True))
        for name in names:
            bridge_pause(name=name)
        self.message_user(request, f"Paused {len(names)} bridge(s).", messages.SUCCESS)

    @admin.action(description="Resume selected bridges", permissions=["operate"])
    def resume(self, request: HttpRequest, queryset: QuerySet[BridgeCheckpoint]) -> None:
        names = list(queryset.values_list("name", flat=True))
        for name in names:
            bridge_resume(name=name)
        self.message_user(request, f"Resumed {len(names)} bridge(s).", messages.SUCCESS)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "source", "external_id", "event_link", "transport", "channel"]
    list_filter = ["transport", "channel", "received_at"]
    search_fields = ["=external_id", "source", "=event__id"]
    date_hierarchy = "received_at"
    fields = ["source", "external_id", "event_link", "transport", "channel", "received_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundEvent]:
        return super().get_queryset(request).select_related("event")

    @admin.display(description="event")
    def event_link(self, obj: InboundEvent) -> str:
        return change_link(obj.event, str(obj.event))


@admin.register(InboundDeadLetter)
class InboundDeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "transport", "channel", "reference", "reason"]
    list_filter = ["transport", "channel", "created_at"]
    search_fields = ["reason", "body", "=reference"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "transport",
        "channel",
        "reference",
        "reason",
        "body_pre",
        "headers_pretty",
    ]

    @admin.display(description="body")
    def body_pre(self, obj: InboundDeadLetter) -> str:
        return pre(obj.body)

    @admin.display(description="headers")
    def headers_pretty(self, obj: InboundDeadLetter) -> str:
        return pretty_json(obj.headers)
